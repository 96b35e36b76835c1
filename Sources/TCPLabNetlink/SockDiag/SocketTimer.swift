import TCPLabSystem

/// Which timer a socket has pending, as `inet_diag_msg.idiag_timer` reports it.
public struct SocketTimer: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let none = SocketTimer(rawValue: 0)
    /// Retransmission (also the tail-loss probe and RACK reordering timers; SYN-ACK for request sockets).
    public static let retransmit = SocketTimer(rawValue: 1)
    public static let keepalive = SocketTimer(rawValue: 2)
    /// TIME_WAIT, and an orphaned FIN_WAIT2's tcp_fin_timeout.
    public static let timeWait = SocketTimer(rawValue: 3)
    public static let zeroWindowProbe = SocketTimer(rawValue: 4)

    /// "retransmit timer", "keepalive timer", ... as a person reads it.
    public var description: String {
        switch rawValue {
        case 0: "no timer"
        case 1: "retransmit timer"
        case 2: "keepalive timer"
        case 3: "time-wait timer"
        case 4: "zero-window probe timer"
        default: "timer \(rawValue)"
        }
    }

    /// Reads `description` back; nil for a name it never prints.
    public init?(name: String) {
        guard let raw = (0...7).map(UInt8.init).first(where: { SocketTimer(rawValue: $0).description == name }) else { return nil }
        self.init(rawValue: raw)
    }
}
