import TCPLabFault
import TCPLabNetlink

/// Turns captured segments into per-connection timeline events, classifying each segment from
/// the sequence of segments before it (the kernel does not say what a segment is *for*).
///
/// Connections are keyed by their 4-tuple; the client is the side that sent the first SYN
/// (without a SYN: the side whose port is not in `serverPorts`, else the higher port).
/// A SYN with a new sequence number on a known 4-tuple starts a new connection.
public struct TimelineBuilder: Sendable {
    public private(set) var events: [TimelineEvent] = []
    public let serverPorts: Set<UInt16>
    private var connections: [ConnectionKey: Int] = [:]
    private var states: [ConnectionState] = []
    /// The last event index and its identity, to merge a drop/delay record of a packet already
    /// logged as passed (same kernel timestamp, same bytes).
    private var lastSegment: (index: Int, timestamp: Int64, packet: [UInt8])?
    /// Segments a delay holds, by their bytes without the TCP checksum (`heldKey`): the indexes
    /// of their "delayed" events, oldest first.
    private var held: [[UInt8]: [Int]] = [:]

    public init(serverPorts: Set<UInt16> = []) {
        self.serverPorts = serverPorts
    }

    /// Builds a timeline from segments in capture order.
    public static func build(_ segments: [CapturedSegment], serverPorts: Set<UInt16> = []) -> [TimelineEvent] {
        var builder = TimelineBuilder(serverPorts: serverPorts)
        for segment in segments { builder.add(segment) }
        return builder.events
    }

    /// Adds one segment and returns its event; returns nil when the segment was the same packet
    /// as the previous one logged again with a drop/delay prefix, whose event's fate it updated.
    @discardableResult
    public mutating func add(_ segment: CapturedSegment) -> TimelineEvent? {
        // First: a release may carry the very timestamp of its hold (a fail-open queue passes it at once).
        if segment.fate == .released, let event = release(segment) { return event }
        if let last = lastSegment, last.timestamp == segment.timestampMicroseconds, !segment.packet.isEmpty,
           last.packet == segment.packet {
            if segment.fate == .delayed { held[Self.heldKey(segment.packet), default: []].append(last.index) }
            if segment.fate != .passed {
                events[last.index].fate = segment.fate
                events[last.index].faultKind = segment.faultKind
                events[last.index].faultDelayMicroseconds = segment.faultTiming?.delayMicroseconds
                events[last.index].faultJitterMicroseconds = segment.faultTiming.flatMap { $0.jitterMicroseconds > 0 ? $0.jitterMicroseconds : nil }
            }
            return nil
        }
        let header = segment.header
        let key = ConnectionKey(header.source, header.destination)
        var index = connections[key]
        if let existing = index, states[existing].startsNewConnection(header) { index = nil }
        if index == nil {
            index = states.count
            connections[key] = index
            states.append(ConnectionState(number: states.count, first: segment, serverPorts: serverPorts))
        }
        let event = states[index!].classify(segment)
        events.append(event)
        lastSegment = (events.count - 1, segment.timestampMicroseconds, segment.packet)
        if segment.fate == .delayed, !segment.packet.isEmpty { held[Self.heldKey(segment.packet), default: []].append(events.count - 1) }
        return event
    }

    /// A held segment going on: the same segment as its "delayed" event, classified then (the
    /// sender sent it then; its release is not a retransmission and changes no sequence state),
    /// now with the release's time and how long it was held. Nil when the hold was not seen
    /// (the watch started during it): then it is classified like any other segment.
    private mutating func release(_ segment: CapturedSegment) -> TimelineEvent? {
        let key = Self.heldKey(segment.packet)
        guard !segment.packet.isEmpty, var waiting = held[key], !waiting.isEmpty else { return nil }
        let index = waiting.removeFirst()
        held[key] = waiting.isEmpty ? nil : waiting
        var event = events[index]
        let heldFor = segment.timestampMicroseconds - event.timeUnixMicroseconds
        event.fate = .released
        event.offsetMicroseconds += heldFor
        event.timeUnixMicroseconds = segment.timestampMicroseconds
        event.heldMicroseconds = heldFor
        if let timing = segment.faultTiming {
            event.faultDelayMicroseconds = timing.delayMicroseconds
            event.faultJitterMicroseconds = timing.jitterMicroseconds > 0 ? timing.jitterMicroseconds : nil
        }
        events.append(event)
        lastSegment = (events.count - 1, segment.timestampMicroseconds, segment.packet)
        return event
    }
}

extension TimelineBuilder {
    /// The packet with its TCP checksum zeroed. A held segment is logged twice with the same bytes
    /// but one: on loopback the checksum is CHECKSUM_PARTIAL (only the pseudo-header sum) when the
    /// delay rule logs it, and NFQUEUE completes it (skb_checksum_help) before handing it to
    /// faultproxy, so the release carries the full checksum.
    static func heldKey(_ packet: [UInt8]) -> [UInt8] {
        guard let first = packet.first else { return packet }
        let tcpStart: Int
        switch first >> 4 {
        case 4: tcpStart = Int(first & 0x0f) * 4
        case 6 where packet.count > 6 && packet[6] == 6: tcpStart = 40
        default: return packet
        }
        guard packet.count >= tcpStart + 18 else { return packet }
        var key = packet
        key[tcpStart + 16] = 0
        key[tcpStart + 17] = 0
        return key
    }
}

/// A 4-tuple without direction.
struct ConnectionKey: Hashable, Sendable {
    let low: InetEndpoint
    let high: InetEndpoint
    init(_ a: InetEndpoint, _ b: InetEndpoint) {
        (low, high) = a < b ? (a, b) : (b, a)
    }
}

/// What the classifier remembers about one connection.
struct ConnectionState: Sendable {
    let number: Int
    let client: InetEndpoint
    let firstTimestamp: Int64
    /// Both ends as the timeline spells them, made once: inet_ntop for every segment of a bulk
    /// transfer was a tenth of the capture's CPU.
    private let clientText: String
    private let serverText: String
    private var isn = PerEndpoint<UInt32>()
    /// One past the highest sequence number each side has sent (its snd_nxt as seen on the wire).
    private var sendNext = PerEndpoint<UInt32>()
    /// The highest acknowledgment each side has received (the sender's snd_una).
    private var acknowledged = PerEndpoint<UInt32>()
    private var lastWindow = PerEndpoint<UInt16>()
    private var windowScale = PerEndpoint<UInt8>()
    private var synWithScale: Set<Endpoint> = []
    private var synSeen: Set<Endpoint> = []
    /// Who sent the first FIN and the sequence number just after it; same for the second.
    private var firstFin: (from: Endpoint, end: UInt32)?
    private var secondFin: (from: Endpoint, end: UInt32)?
    private var reset = false
    private var lastKind: (from: Endpoint, kind: SegmentKind)?

    init(number: Int, first: CapturedSegment, serverPorts: Set<UInt16>) {
        self.number = number
        firstTimestamp = first.timestampMicroseconds
        let header = first.header
        if header.flags.contains(.syn) {
            client = header.flags.contains(.ack) ? header.destination : header.source
        } else if serverPorts.contains(header.destination.port) != serverPorts.contains(header.source.port) {
            client = serverPorts.contains(header.destination.port) ? header.source : header.destination
        } else {
            client = header.source.port > header.destination.port ? header.source : header.destination
        }
        clientText = client.description
        serverText = (header.source == client ? header.destination : header.source).description
    }

    /// A SYN (without ACK) from the client side with another ISN: a new connection on the same 4-tuple.
    func startsNewConnection(_ header: TCPSegmentHeader) -> Bool {
        guard header.flags.contains(.syn), !header.flags.contains(.ack) else { return false }
        guard let clientISN = isn[.client] else { return false }
        return header.source != client || header.sequence != clientISN
    }

    mutating func classify(_ segment: CapturedSegment) -> TimelineEvent {
        let header = segment.header
        let from: Endpoint = header.source == client ? .client : .server
        let peer = from.peer
        let flags = header.flags
        let length = header.sequenceLength

        // Relative numbering: the SYN is 0; without a SYN the first number seen counts as 1.
        if flags.contains(.syn) { isn[from] = isn[from] ?? header.sequence }
        let ownISN = isn[from] ?? header.sequence &- 1
        isn[from] = ownISN
        var peerISN = isn[peer]
        if flags.contains(.ack), peerISN == nil {
            peerISN = header.acknowledgment &- 1
            isn[peer] = peerISN
        }

        let previousNext = sendNext[from]
        let retransmission = length > 0 && previousNext.map { Self.before(header.sequence, $0) } == true
        let kind = kind(of: header, from: from, previousNext: previousNext)

        // Update what each side has sent and received.
        let end = header.sequence &+ length
        if previousNext.map({ Self.before($0, end) }) ?? true { sendNext[from] = end }
        if flags.contains(.ack), acknowledged[peer].map({ Self.before($0, header.acknowledgment) }) ?? true {
            acknowledged[peer] = header.acknowledgment
        }
        if flags.contains(.syn) {
            synSeen.insert(from)
            if let shift = header.windowScale { windowScale[from] = shift; synWithScale.insert(from) }
        }
        lastWindow[from] = header.window
        if flags.contains(.rst) { reset = true }
        lastKind = (from, kind)

        let scaled: Int? = (flags.contains(.syn) || synWithScale.count < 2)
            ? nil : Int(header.window) << Int(windowScale[from] ?? 0)
        let dataSenderISN = peerISN ?? 0
        let sack = header.sackBlocks.map { [$0.left &- dataSenderISN, $0.right &- dataSenderISN] }
        let timestamps = header.timestamps
        return TimelineEvent(
            connection: number,
            offsetMicroseconds: segment.timestampMicroseconds - firstTimestamp,
            timeUnixMicroseconds: segment.timestampMicroseconds,
            from: from,
            source: from == .client ? clientText : serverText,
            destination: from == .client ? serverText : clientText,
            kind: kind,
            retransmission: retransmission,
            fate: segment.fate,
            faultKind: segment.faultKind,
            flags: flags.description,
            sequenceRelative: header.sequence &- ownISN,
            acknowledgmentRelative: flags.contains(.ack) ? header.acknowledgment &- (peerISN ?? 0) : nil,
            sequenceRaw: header.sequence,
            acknowledgmentRaw: header.acknowledgment,
            payloadBytes: header.payloadLength,
            windowRaw: header.window,
            windowBytes: scaled,
            maximumSegmentSizeBytes: header.maximumSegmentSize,
            windowScale: header.windowScale,
            sackPermitted: header.sackPermitted ? true : nil,
            timestampValue: timestamps?.value,
            timestampEchoReply: timestamps?.echoReply,
            sackRelative: sack.isEmpty ? nil : sack,
            options: header.options.map(\.tcpdumpText),
            faultDelayMicroseconds: segment.faultTiming?.delayMicroseconds,
            faultJitterMicroseconds: segment.faultTiming.flatMap { $0.jitterMicroseconds > 0 ? $0.jitterMicroseconds : nil }
        )
    }

    private mutating func kind(of header: TCPSegmentHeader, from: Endpoint, previousNext: UInt32?) -> SegmentKind {
        let flags = header.flags
        if flags.contains(.rst) { return .rst }
        if flags.contains(.syn) { return flags.contains(.ack) ? .synack : .syn }
        let end = header.sequence &+ header.sequenceLength
        if flags.contains(.fin) {
            if let first = firstFin, first.from != from {
                secondFin = (from, end)
                return .peerFin
            }
            firstFin = (from, end)
            return .fin
        }
        if header.payloadLength > 0 { return .data }
        // A pure ACK from here on.
        // Keepalive and zero-window probes repeat the last acknowledged byte: seq = snd_una - 1.
        if let reference = acknowledged[from] ?? previousNext, header.sequence == reference &- 1 {
            return lastWindow[from.peer] == 0 ? .windowProbe : .keepalive
        }
        if let last = lastKind, last.from == from.peer, last.kind == .keepalive { return .keepaliveAck }
        if flags.contains(.ack) {
            if let first = firstFin, let second = secondFin, first.from == from, header.acknowledgment == second.end {
                return .lastAck
            }
            if let first = firstFin, first.from != from, header.acknowledgment == first.end { return .finAck }
            if from == .client, firstFin == nil, let serverISN = isn[.server], let clientISN = isn[.client],
               synSeen.contains(.server), header.acknowledgment == serverISN &+ 1, header.sequence == clientISN &+ 1,
               sendNext[.server] == serverISN &+ 1 {
                return .handshakeAck
            }
        }
        return .ack
    }

    /// Sequence-space order with wrap-around: a comes before b.
    static func before(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
}
