import Foundation
import TCPLabRules

/// Everything faultproxy will do to one server port's connections, checked and ready to be
/// turned into one nftables table (`linearize()`).
public struct FaultPlan: Hashable, Sendable {
    /// The server's port: segments from the client have `tcp dport == port`, from the server `tcp sport == port`.
    public var port: UInt16
    public var drops: [DropSpec]
    public var delays: [DelaySpec]
    public var duplicates: [DuplicateSpec]
    /// Narrows every fault to segments sent by this end.
    public var from: Endpoint?
    /// When set, every segment in scope is logged to this NFLOG group before its verdict.
    public var logGroup: UInt16?
    /// With a log group: also log the segments that arrive and pass every fault. False when the
    /// watch's packet ring sees every arrival (`ObservationSession.capturesArrivals`): then NFLOG
    /// logs only faults, releases and this host's own segments, which is what keeps bulk
    /// transfers fast (the ring costs the kernel far less per segment than a log record).
    public var logsArrivals: Bool = true
    public var tableName: String
    /// The native nft `queue` statement exists (distribution kernels); otherwise the x_tables NFQUEUE target.
    public var nativeQueue: Bool
    /// The NFQUEUE number delayed and duplicated segments go to.
    public var queueNumber: UInt16
    /// Makes `%P` drops repeat run after run for each connection's first occurrences.
    public var seed: UInt64?
    /// A connection silent this long makes its next empty pure ACK a keepalive probe. Longer than
    /// the longest delayed ACK (200 ms), shorter than the shortest keepalive interval (1 s).
    public var keepaliveIdle: FaultDuration

    public init(
        port: UInt16,
        drops: [DropSpec] = [],
        delays: [DelaySpec] = [],
        duplicates: [DuplicateSpec] = [],
        from: Endpoint? = nil,
        logGroup: UInt16? = nil,
        tableName: String = FaultPlan.defaultTableName(),
        nativeQueue: Bool = false,
        queueNumber: UInt16 = 0,
        seed: UInt64? = nil,
        keepaliveIdle: FaultDuration = .milliseconds(500)
    ) {
        self.port = port
        self.drops = drops
        self.delays = delays
        self.duplicates = duplicates
        self.from = from
        self.logGroup = logGroup
        self.tableName = tableName
        self.nativeQueue = nativeQueue
        self.queueNumber = queueNumber
        self.seed = seed
        self.keepaliveIdle = keepaliveIdle
    }

    /// The queue tag of a host's own segment that a drop took (see `FaultLinearizer.loseRules`):
    /// the queue reader answers it NF_DROP. Delays and duplicates number theirs from 1.
    public static let loseTag: UInt16 = 0xffff
    /// The tag a duplicate's copy carries from faultproxy's raw socket (SO_MARK): the copy is
    /// logged as it passes and skips every fault, so it is neither duplicated nor dropped again.
    public static let copyTag: UInt16 = 0xfffe
    /// The copy's whole mark: the tag in the scratch bits, nothing of the user's below.
    public static var copyMark: UInt32 { UInt32(copyTag) << 16 }

    /// Segments the kernel logged, from the packet counters of a table with a log group: every
    /// rule with a `RuleComment` counts what it logs (fault rules count before their log, the
    /// timeline's rules too), so the reader knows exactly how many records it missed.
    public static func loggedSegments(_ counters: [NFTRuleCounter]) -> UInt64 {
        counters.filter { RuleComment($0.comment) != nil }.reduce(0) { $0 + $1.packets }
    }

    /// `faultproxy_<pid>`: one table per faultproxy process, so two never fight over rules.
    public static func defaultTableName(pid: Int32 = ProcessInfo.processInfo.processIdentifier) -> String { "faultproxy_\(pid)" }

    /// The delayed and duplicated faults in the order their queue tags number them.
    public var queuedFaults: [QueuedFault] {
        let delayed = delays.map { QueuedFault.Action.delay($0) }
        let duplicated = duplicates.map { QueuedFault.Action.duplicate($0) }
        return (delayed + duplicated).enumerated().map { QueuedFault(tag: UInt16($0.offset + 1), action: $0.element) }
    }

    /// Every fault in rule order: drops first, so a segment both dropped and delayed is dropped.
    var faults: [Fault] {
        drops.map { Fault(tag: FaultTag(.drop, $0.selector.kind), selector: $0.selector, queueTag: nil) }
            + queuedFaults.map { Fault(tag: $0.faultTag, selector: $0.selector, queueTag: $0.tag, spelling: $0.spelling) }
    }

    /// Refuses what can never work, with one line that names the offending option.
    public func validate() throws(FaultSpecError) {
        guard port != 0 else { throw FaultSpecError("port 0 is not a server port; give the port the server listens on") }
        guard Self.isValidTableName(tableName) else {
            throw FaultSpecError("table name '\(tableName)' must start with a letter and hold only letters, digits and '_' (at most 255)")
        }
        if faults.isEmpty && logGroup == nil {
            throw FaultSpecError("nothing to do: give at least one --drop, --delay or --duplicate (or a log group to only watch)")
        }
        guard faults.count < Self.copyTag else { throw FaultSpecError("too many faults (at most \(Self.copyTag - 1))") }
        // Rules run in order: a delay or duplicate behind a fault that takes every such segment never sees one.
        let all = faults
        for (index, fault) in all.enumerated() where fault.queueTag != nil {
            if let earlier = all[..<index].first(where: { $0.selector.selection == .all && ($0.selector.kind == fault.selector.kind || $0.selector.kind == .any) }) {
                throw FaultSpecError("--\(fault.verb) \(fault.spelling ?? fault.selector.description) never applies: --\(earlier.verb) \(earlier.spelling ?? earlier.selector.description) takes every \(fault.selector.kind.rawValue) segment first")
            }
        }
        if let from {
            for fault in faults {
                if let sender = fault.selector.kind.onlySentBy, sender != from {
                    throw FaultSpecError("--\(fault.verb) \(fault.selector) with --from \(from.rawValue): \(fault.selector.kind.rawValue) is only sent by the \(sender.rawValue), so it would never match")
                }
            }
        }
    }

    static func isValidTableName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func isLetter(_ b: UInt8) -> Bool { (65...90).contains(b) || (97...122).contains(b) }
        guard let first = bytes.first, isLetter(first), bytes.count <= 255 else { return false }
        return bytes.allSatisfy { isLetter($0) || (48...57).contains($0) || $0 == 95 }
    }
}

/// A delay or duplicate: its rule queues the segment with `meta mark` bits 16-31 = `tag`, so the
/// queue reader knows which fault caught it (`QueuedFault.tag(ofMark:)`). The reader must answer
/// NF_ACCEPT (not NF_REPEAT, which would run this table again and queue the segment again), with
/// `verdictMark(for:)`: a delay's release keeps the tag for the release chain, which logs the
/// release and then clears it.
public struct QueuedFault: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        case delay(DelaySpec)
        case duplicate(DuplicateSpec)
    }
    public var tag: UInt16
    public var action: Action

    public var selector: SegmentSelector {
        switch action {
        case .delay(let spec): spec.selector
        case .duplicate(let spec): spec.selector
        }
    }
    public var verb: String { faultTag.action.rawValue }
    /// The NFLOG tag of the rule that queues it ("tcplab delay data 300ms~5ms"): the hold or the
    /// copy's delay, as the timeline shows it.
    public var faultTag: FaultTag {
        switch action {
        case .delay(let spec): FaultTag(.delay, spec.selector.kind, delay: spec.delay, jitter: spec.jitter)
        case .duplicate(let spec): FaultTag(.duplicate, spec.selector.kind, delay: spec.copyDelay, jitter: spec.jitter)
        }
    }
    /// The `meta mark` a queued segment carries: the tag in bits 16-31, the sender's own bits below.
    public var markBits: UInt32 { UInt32(tag) << 16 }
    /// The spec as typed: "synack=300ms", "syn".
    public var spelling: String {
        switch action {
        case .delay(let spec): spec.description
        case .duplicate(let spec): spec.description
        }
    }
    public static func tag(ofMark mark: UInt32) -> UInt16 { UInt16(mark >> 16) }

    /// The mark to answer NF_ACCEPT with for a segment this fault queued with `queuedMark`. A
    /// delay keeps its tag, so the release chain (`FaultPlan.releaseChain`) recognises the
    /// release, logs it and clears the tag; a duplicate's original and its raw-socket copy leave
    /// with the scratch bits clear, as if they had passed the whole table (nothing logs them again).
    public func verdictMark(for queuedMark: UInt32) -> UInt32 {
        switch action {
        case .delay: queuedMark & ~PacketClass.scratch | markBits
        case .duplicate: queuedMark & ~PacketClass.scratch
        }
    }
}

/// One fault in rule order, whatever its verdict.
struct Fault {
    /// What its rule logs: the action, the kind and, for queued faults, their timing.
    var tag: FaultTag
    var selector: SegmentSelector
    var queueTag: UInt16?
    /// The spec as typed, for messages; nil: the selector alone.
    var spelling: String? = nil

    var verb: String { tag.action.rawValue }
    var comment: RuleComment { .fault(tag.action, selector.kind) }
}

extension SegmentKind {
    /// Kinds only one end ever sends; `--from` the other end would never match them.
    public var onlySentBy: Endpoint? {
        switch self {
        case .syn, .handshakeAck: .client
        case .synack: .server
        default: nil
        }
    }
}


extension FaultPlan {
    /// "drop synack:2, delay data=300ms": the faults as the command line spelled them.
    public var summary: String {
        (drops.map { "drop \($0)" } + delays.map { "delay \($0)" } + duplicates.map { "duplicate \($0)" }).joined(separator: ", ")
    }
}
