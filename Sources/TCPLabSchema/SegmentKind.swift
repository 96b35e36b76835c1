/// The segments a person can name, in faultproxy's vocabulary. Canonical names follow what the
/// segment is; the aliases follow the seed notes, which number the handshake and teardown segments.
public enum SegmentKind: String, CaseIterable, Sendable, Codable {
    /// The connecting side's SYN and its retransmissions.
    case syn
    /// The listener's SYN-ACK and its retransmissions.
    case synack
    /// The pure ACK completing the handshake (and its repeats, until the server is established).
    case handshakeAck = "handshake-ack"
    /// The first FIN of the connection, from whichever side closes first (and its retransmissions).
    case fin
    /// The other side's pure ACK of that first FIN, when not merged with its own FIN.
    case finAck = "fin-ack"
    /// The second FIN, from the other side.
    case peerFin = "peer-fin"
    /// The ACK of the second FIN.
    case lastAck = "last-ack"
    /// Any segment with RST.
    case rst
    /// Segments carrying payload.
    case data
    /// Keepalive probes: a pure ACK after the connection was idle, not answering a zero window.
    case keepalive
    /// The answers to keepalive probes.
    case keepaliveAck = "keepalive-ack"
    /// Zero-window probes.
    case windowProbe = "window-probe"
    /// Every segment: a black hole.
    case any
    /// Not a name a person uses: an ordinary ACK in the timeline.
    case ack

    /// The seed notes' numbering.
    public static let aliases: [String: SegmentKind] = [
        "handshake-1": .syn, "handshake-2": .synack, "handshake-3": .handshakeAck,
        "teardown-1": .fin, "teardown-2": .finAck, "teardown-3": .peerFin, "teardown-4": .lastAck,
    ]

    /// The kinds a fault may name (`ack` is only a timeline label).
    public static var faultable: [SegmentKind] { allCases.filter { $0 != .ack } }

    /// Parses a canonical name or an alias.
    public init?(name: String) {
        let key = name.lowercased()
        if let kind = SegmentKind(rawValue: key), kind != .ack {
            self = kind
        } else if let kind = Self.aliases[key] {
            self = kind
        } else {
            return nil
        }
    }

    /// "syn, synack, handshake-ack, ... (aliases handshake-1..3, teardown-1..4)" for error messages.
    public static var validNames: String {
        faultable.map(\.rawValue).joined(separator: ", ") + " (aliases: handshake-1..3, teardown-1..4)"
    }
}

/// Which end of the connection sent a segment: the client sent the SYN.
public enum Endpoint: String, CaseIterable, Sendable, Codable {
    case client, server
    public var peer: Endpoint { self == .client ? .server : .client }
}
