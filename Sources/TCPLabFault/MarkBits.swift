/// The 32-bit words the rules read and write: `meta mark` (host byte order, as the kernel keeps
/// it) and the state every connection carries between its segments.
///
/// Connection state layout (per connection and per table: bit k is membership of the connection's
/// `ct id` in the table's set `state_k`, see ConnectionStateSets; `ct mark` is never touched):
///
///     bit 0   HS_DONE        a client ACK (not SYN) passed: the handshake is complete
///     bit 1   FIN1_SEEN      the connection's first FIN was seen
///     bit 2   FIN1_REPLY     ... and it travelled in the reply direction (server → client)
///     bit 3   PEERFIN_SEEN   the other side's FIN was seen
///     bit 4   ZW_ORIGINAL    the last window the original direction advertised was 0
///     bit 5   ZW_REPLY       the last window the reply direction advertised was 0
///     bit 6   PROBE_PENDING  a keepalive probe passed and was not answered yet
///     bit 7   PROBE_REPLY    ... and it travelled in the reply direction
///     bits 8-31              counter fields, one per counted fault (see CTMarkLayout)
///
/// `meta mark` bits 16-31 are per-packet scratch (cleared when a segment enters the table and
/// again when it leaves): the classification of the segment, so every fault rule tests one bit.
/// A queued segment leaves with the queued fault's tag there instead (see QueuedFault).
public enum ConnectionState {
    public static let handshakeDone: UInt32 = 1 << 0
    public static let fin1Seen: UInt32 = 1 << 1
    public static let fin1Reply: UInt32 = 1 << 2
    public static let peerFinSeen: UInt32 = 1 << 3
    public static let zeroWindowOriginal: UInt32 = 1 << 4
    public static let zeroWindowReply: UInt32 = 1 << 5
    public static let probePending: UInt32 = 1 << 6
    public static let probeReply: UInt32 = 1 << 7
    /// Bits below this are state flags; counter fields start here.
    public static let firstCounterBit = 8
}

public enum PacketClass {
    /// Every scratch bit: cleared on entry and exit.
    public static let scratch: UInt32 = 0xffff_0000
    public static let fromClient: UInt32 = 1 << 16
    /// No TCP payload: IP length == IP header + TCP header.
    public static let empty: UInt32 = 1 << 17
    /// The connection's id was not in the recent-activity set: nothing moved for a while.
    public static let idle: UInt32 = 1 << 18
    /// This host sent the segment (it entered at the output hook, not prerouting).
    public static let local: UInt32 = 1 << 27

    /// The kinds that need state or several rules to recognise get a bit set by classification;
    /// the others (syn, synack, rst, data, any) are matched directly in the fault rule.
    public static func bit(for kind: SegmentKind) -> UInt32? {
        switch kind {
        case .handshakeAck: 1 << 19
        case .fin: 1 << 20
        case .finAck: 1 << 21
        case .peerFin: 1 << 22
        case .lastAck: 1 << 23
        case .keepalive: 1 << 24
        case .keepaliveAck: 1 << 25
        case .windowProbe: 1 << 26
        case .syn, .synack, .rst, .data, .any, .ack: nil
        }
    }
}

/// TCP header flag bits (byte 13 of the TCP header), as the rules match them. Internal:
/// TCPLabObserve has the public TCPFlags of the timeline.
struct HeaderFlags: OptionSet, Hashable, Sendable {
    let rawValue: UInt8
    init(rawValue: UInt8) { self.rawValue = rawValue }
    static let fin = HeaderFlags(rawValue: 0x01)
    static let syn = HeaderFlags(rawValue: 0x02)
    static let rst = HeaderFlags(rawValue: 0x04)
    static let ack = HeaderFlags(rawValue: 0x10)
}
