import Foundation
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

/// A faultproxy run with its timeline: the fault stays installed until `stop()`.
public final class FaultProxyRun: @unchecked Sendable {
    public let process: LabProcess
    public let tolerance: TimingTolerance

    init(process: LabProcess, tolerance: TimingTolerance) {
        self.process = process
        self.tolerance = tolerance
    }

    /// What faultproxy has reported so far (it prints each segment and state change at once).
    public func observation() -> Observation {
        Observation(jsonLines: process.standardOutput, tolerance: tolerance)
    }

    /// Waits until `condition` holds for the observation so far, or `timeout` passes.
    @discardableResult
    public func wait(timeout: Double, until condition: (Observation) -> Bool) -> Observation {
        let deadline = Date().addingTimeInterval(timeout)
        var current = observation()
        while !condition(current), Date() < deadline, process.isRunning {
            usleep(10_000)
            current = observation()
        }
        return current
    }

    /// Removes the fault (SIGINT: faultproxy deletes its table) and returns the whole observation.
    @discardableResult
    public func stop() -> Observation {
        process.signal(SIGINT)
        if process.wait(timeout: 10) == nil { process.stop() }
        return observation()
    }
}

/// The segments and socket states of a lab, as faultproxy's `--timeline json --states` reported them.
public struct Observation: Sendable {
    public var events: [TimelineEvent]
    public var transitions: [SocketTransition]
    public var tolerance: TimingTolerance

    public init(events: [TimelineEvent], transitions: [SocketTransition], tolerance: TimingTolerance = .forTick()) {
        self.events = events
        self.transitions = transitions
        self.tolerance = tolerance
    }

    /// Parses faultproxy's JSON lines (`TimelineRecord`: its segments and states); other lines are skipped.
    public init(jsonLines text: String, tolerance: TimingTolerance = .forTick()) {
        var events: [TimelineEvent] = []
        var transitions: [SocketTransition] = []
        let decoder = JSONDecoder()
        for line in text.split(separator: "\n") where line.hasPrefix("{") {
            switch try? decoder.decode(TimelineRecord.self, from: Data(line.utf8)) {
            case .segment(let event): events.append(event)
            case .state(let state): SocketTransition(record: state).map { transitions.append($0) }
            default: break
            }
        }
        self.init(events: events, transitions: transitions, tolerance: tolerance)
    }

    // MARK: queries

    /// Segments of a kind (and sender, connection), in order.
    public func segments(_ kind: SegmentKind? = nil, from sender: Endpoint? = nil, connection: Int? = nil,
                         fate: SegmentFate? = nil) -> [TimelineEvent] {
        events.filter {
            (kind == nil || $0.kind == kind) && (sender == nil || $0.from == sender)
                && (connection == nil || $0.connection == connection) && (fate == nil || $0.fate == fate)
        }
    }

    /// Seconds from `origin` (µs since the epoch) to each segment's kernel timestamp.
    public func offsets(_ segments: [TimelineEvent], from origin: Int64) -> [Double] {
        segments.map { Double($0.timeUnixMicroseconds - origin) / 1_000_000 }
    }

    /// How many segments of a kind faultproxy dropped.
    public func dropped(_ kind: SegmentKind) -> Int { events.filter { $0.fate == .dropped && ($0.faultKind ?? $0.kind) == kind }.count }

    /// State transitions of one side, optionally into one state (nil state: the socket is gone).
    public func states(_ side: Endpoint, remotePort: UInt16? = nil, localPort: UInt16? = nil) -> [SocketTransition] {
        transitions.filter {
            $0.side == side && (remotePort == nil || $0.remote.port == remotePort) && (localPort == nil || $0.local.port == localPort)
        }
    }

    /// The first time a socket of `side` entered `state` ("CLOSED" when it vanished), µs since the epoch.
    public func firstTime(_ side: Endpoint, entered state: String, after origin: Int64 = 0) -> Int64? {
        transitions.first { $0.side == side && ($0.state?.description ?? "CLOSED") == state && $0.timeUnixMicroseconds >= origin }?
            .timeUnixMicroseconds
    }

    /// The distinct state names a side went through, in order ("SYN_SENT", "ESTABLISHED", ..., "CLOSED").
    public func statePath(_ side: Endpoint, localPort: UInt16? = nil) -> [String] {
        var path: [String] = []
        for change in states(side, localPort: localPort) {
            let name = change.state?.description ?? "CLOSED"
            if path.last != name { path.append(name) }
        }
        return path
    }

    /// The ladder diagram, offsets from `origin` (default: the first thing seen): text
    /// (TCPLabObserve.LadderView), a self-contained SVG picture, or a Mermaid sequenceDiagram,
    /// e.g. to attach to a failing test.
    public func ladder(_ format: LadderFormat = .text, title: String? = nil, colour: Bool = false, origin: Int64? = nil) -> String {
        format.render(events: events, transitions: transitions, title: title, colour: colour, originUnixMicroseconds: origin)
    }

    // MARK: assertions

    /// `assertDropped` with faultproxy's name for the kind ("synack", "handshake-3").
    public func assertDropped(_ kindName: String, count: Int, before deadline: Double? = nil) throws {
        guard let kind = SegmentKind(name: kindName) else { throw TimingMismatch("no segment kind named \(kindName)") }
        try assertDropped(kind, count: count, before: deadline)
    }

    /// Throws unless faultproxy dropped `count` segments of `kind`, all before `deadline` seconds after the first segment.
    public func assertDropped(_ kind: SegmentKind, count: Int, before deadline: Double? = nil) throws {
        let drops = events.filter { $0.fate == .dropped && ($0.faultKind ?? $0.kind) == kind }
        guard drops.count == count else {
            throw TimingMismatch("expected \(count) dropped \(kind.rawValue) segments, saw \(drops.count)")
        }
        if let deadline, let origin = events.first?.timeUnixMicroseconds, let last = drops.last {
            let at = Double(last.timeUnixMicroseconds - origin) / 1_000_000
            guard at <= deadline else {
                throw TimingMismatch("expected the \(count) dropped \(kind.rawValue) segments before +\(deadline) s, the last was at +\(at) s")
            }
        }
    }

    /// Throws unless the segments of `kind` from `sender` go out at `expected` offsets (from the
    /// first of them), each within the tolerance for the timers that lead to it.
    public func assertSchedule(_ kind: SegmentKind, from sender: Endpoint, expected: RetransmissionSchedule, connection: Int = 0) throws {
        let sent = segments(kind, from: sender, connection: connection)
        guard let first = sent.first else { throw TimingMismatch("no \(kind.rawValue) from the \(sender.rawValue) at all") }
        let observed = offsets(Array(sent.dropFirst()), from: first.timeUnixMicroseconds)
        for (index, at) in expected.retransmissions.enumerated() {
            guard index < observed.count else {
                throw TimingMismatch("expected \(kind.rawValue) retransmission \(index + 1) at +\(at) s, but only \(observed.count) were sent")
            }
            try tolerance.assertTime("\(kind.rawValue) retransmission \(index + 1)", expected: at, observed: observed[index],
                                     timers: expected.timeouts(untilRetransmission: index))
        }
    }
}
