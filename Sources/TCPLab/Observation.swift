import Foundation
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

/// The segments and socket states of a lab, as faultproxy's `--timeline json --states` reported them.
public struct Observation: Sendable {
    public var events: [TimelineEvent]
    public var transitions: [SocketTransition]
    /// The kernel's own tracepoints (state changes, retransmissions, resets) of the watched port.
    public var kernelEvents: [KernelEvent]
    public var tolerance: TimingTolerance

    public init(events: [TimelineEvent], transitions: [SocketTransition], kernelEvents: [KernelEvent] = [],
                tolerance: TimingTolerance = .forTick()) {
        self.events = events
        self.transitions = transitions
        self.kernelEvents = kernelEvents.ownedBy(SocketPairs(segments: events, transitions: transitions))
        self.tolerance = tolerance
    }

    /// Parses faultproxy's JSON lines (`TimelineRecord`: its segments and states); other lines are skipped.
    public init(jsonLines text: String, tolerance: TimingTolerance = .forTick()) {
        var events: [TimelineEvent] = []
        var transitions: [SocketTransition] = []
        var kernelEvents: [KernelEvent] = []
        let decoder = JSONDecoder()
        for line in text.split(separator: "\n") where line.hasPrefix("{") {
            switch try? decoder.decode(TimelineRecord.self, from: Data(line.utf8)) {
            case .segment(let event): events.append(event)
            case .state(let state): SocketTransition(record: state).map { transitions.append($0) }
            case .kernel(let record): KernelEvent(record: record).map { kernelEvents.append($0) }
            default: break
            }
        }
        self.init(events: events, transitions: transitions, kernelEvents: kernelEvents, tolerance: tolerance)
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

    /// The first time a socket of `side` entered `state` ("CLOSED" when it was gone), µs since the
    /// epoch: the tracepoint's time where there is one (`stateSteps`), else sock_diag's.
    public func firstTime(_ side: Endpoint, entered state: String, after origin: Int64 = 0) -> Int64? {
        if kernelEvents.contains(where: { $0.name == .stateChange && $0.side == side }) {
            return sockets(side).compactMap { socket in
                stateSteps(side, local: socket.local, remote: socket.remote)
                    .first { $0.state == state && $0.timeUnixMicroseconds >= origin }?.timeUnixMicroseconds
            }.min()
        }
        return transitions.first { $0.side == side && ($0.state?.description ?? "CLOSED") == state && $0.timeUnixMicroseconds >= origin }?
            .timeUnixMicroseconds
    }

    /// The distinct state names a side went through, in order ("SYN_SENT", "ESTABLISHED", ..., "CLOSED").
    /// The tracepoint's states where faultproxy recorded them, TIME_WAIT from sock_diag (`stateSteps`).
    public func statePath(_ side: Endpoint, localPort: UInt16? = nil) -> [String] {
        stateSteps(side, localPort: localPort).map(\.state)
    }

    /// The ladder diagram, offsets from `origin` (default: the first thing seen): text
    /// (TCPLabObserve.LadderView), a self-contained SVG picture, or a Mermaid sequenceDiagram,
    /// e.g. to attach to a failing test.
    public func ladder(_ format: LadderFormat = .text, title: String? = nil, colour: Bool = false, origin: Int64? = nil) -> String {
        format.render(events: events, transitions: transitions, kernelEvents: kernelEvents, title: title, colour: colour,
                      originUnixMicroseconds: origin)
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

    /// Throws unless each segment of `kind` from `sender` goes out one timer (the schedule's
    /// timeout) after the one before it as observed: the one judge, packetdrill-style.
    public func assertSchedule(_ kind: SegmentKind, from sender: Endpoint, expected: RetransmissionSchedule, connection: Int = 0) throws {
        let sent = segments(kind, from: sender, connection: connection)
        guard let first = sent.first else { throw TimingMismatch("no \(kind.rawValue) from the \(sender.rawValue) at all") }
        let observed = offsets(sent, from: first.timeUnixMicroseconds)
        if observed.count < expected.transmissions {
            throw TimingMismatch("expected \(expected.retransmissions.count) \(kind.rawValue) retransmissions, but only \(observed.count - 1) were sent")
        }
        if let failure = tolerance.judgeSchedule(kind.rawValue, transmissions: observed, schedule: expected).lazy.compactMap(\.failure).first {
            throw TimingMismatch(failure)
        }
    }
}
