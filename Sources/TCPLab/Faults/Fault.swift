import TCPLabFault
import TCPLabSystem

/// One fault in faultproxy's vocabulary, as a Swift value: `.drop(.synack, count: 2)`,
/// `.delay(.data, .milliseconds(300), from: .server)`, `.duplicate(.syn, after: .seconds(1))`.
/// `Fault(drop: "synack:2")` reads the command line's spelling; both end as the same specs, so
/// a fault means the same whichever way it was written.
public struct Fault: Sendable, Hashable, CustomStringConvertible {
    enum Action: Hashable, Sendable {
        case drop(DropSpec)
        case delay(DelaySpec)
        case duplicate(DuplicateSpec)
    }

    let action: Action
    /// Only segments this end sends (nil: both ends').
    public let from: Endpoint?

    /// Loses `kind`: every one, the first `count` per connection, only the `only`-th, or each with `probability`.
    public static func drop(_ kind: SegmentKind, count: Int? = nil, only: Int? = nil, probability: Double? = nil,
                            from: Endpoint? = nil) -> Fault {
        Fault(action: .drop(DropSpec(kind, selection(count: count, only: only, probability: probability))), from: from)
    }

    /// Holds `kind` for `duration` (± `jitter`), then lets it go.
    public static func delay(_ kind: SegmentKind, _ duration: Duration, jitter: Duration = .zero, count: Int? = nil, only: Int? = nil,
                             from: Endpoint? = nil) -> Fault {
        Fault(action: .delay(DelaySpec(kind, selection(count: count, only: only, probability: nil),
                                       delay: FaultDuration(duration), jitter: FaultDuration(jitter))), from: from)
    }

    /// Lets `kind` pass and sends a copy `after` later.
    public static func duplicate(_ kind: SegmentKind, after: Duration = .zero, count: Int? = nil, only: Int? = nil,
                                 from: Endpoint? = nil) -> Fault {
        Fault(action: .duplicate(DuplicateSpec(kind, selection(count: count, only: only, probability: nil),
                                               copyDelay: FaultDuration(after))), from: from)
    }

    /// The command line's spellings, parsed by the same code as faultproxy's options:
    /// `Fault(drop: "synack:2")`, `Fault(delay: "data@1=300ms~20ms")`, `Fault(duplicate: "syn:1=1s")`.
    public init(drop text: String, from: Endpoint? = nil) throws(FaultSpecError) {
        self.init(action: .drop(try DropSpec(parsing: text)), from: from)
    }

    public init(delay text: String, from: Endpoint? = nil) throws(FaultSpecError) {
        self.init(action: .delay(try DelaySpec(parsing: text)), from: from)
    }

    public init(duplicate text: String, from: Endpoint? = nil) throws(FaultSpecError) {
        self.init(action: .duplicate(try DuplicateSpec(parsing: text)), from: from)
    }

    private init(action: Action, from: Endpoint?) {
        self.action = action
        self.from = from
    }

    private static func selection(count: Int?, only: Int?, probability: Double?) -> SegmentSelection {
        if let count { return .first(count) }
        if let only { return .only(only) }
        if let probability { return .probability(probability) }
        return .all
    }

    public var description: String {
        let sender = from.map { " from the \($0.rawValue)" } ?? ""
        switch action {
        case .drop(let spec): return "drop \(spec)\(sender)"
        case .delay(let spec): return "delay \(spec)\(sender)"
        case .duplicate(let spec): return "duplicate \(spec)\(sender)"
        }
    }
}

extension FaultPlan {
    /// The plan for `faults` on `port`: one sender for all of them (the rules narrow a whole table
    /// to one sender), checked as faultproxy checks its command line.
    init(port: UInt16, faults: [Fault], logGroup: UInt16?, tableName: String, seed: UInt64? = nil) throws(FaultSpecError) {
        let senders = Set(faults.compactMap(\.from))
        guard senders.count <= 1, senders.isEmpty || faults.allSatisfy({ $0.from != nil }) else {
            throw FaultSpecError("faults for different senders in one call (\(faults.map(\.description).joined(separator: ", "))): make one call per sender, on different ports")
        }
        var plan = FaultPlan(port: port, from: senders.first, logGroup: logGroup, tableName: tableName, seed: seed)
        for fault in faults {
            switch fault.action {
            case .drop(let spec): plan.drops.append(spec)
            case .delay(let spec): plan.delays.append(spec)
            case .duplicate(let spec): plan.duplicates.append(spec)
            }
        }
        try plan.validate()
        self = plan
    }
}

extension FaultDuration {
    /// A Swift duration as the specs hold it (negative ones as zero).
    init(_ duration: Duration) { self.init(nanoseconds: UInt64(max(0, duration.totalNanoseconds))) }
}
