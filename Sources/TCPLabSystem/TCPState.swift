/// A TCP socket state as the kernel numbers it (include/net/tcp_states.h). sock_diag reports
/// request sockets (TCP_NEW_SYN_RECV) as SYN_RECV.
public struct TCPState: RawRepresentable, Hashable, Sendable, CustomStringConvertible, Codable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let established = TCPState(rawValue: 1)
    public static let synSent = TCPState(rawValue: 2)
    public static let synReceived = TCPState(rawValue: 3)
    public static let finWait1 = TCPState(rawValue: 4)
    public static let finWait2 = TCPState(rawValue: 5)
    public static let timeWait = TCPState(rawValue: 6)
    public static let close = TCPState(rawValue: 7)
    public static let closeWait = TCPState(rawValue: 8)
    public static let lastAck = TCPState(rawValue: 9)
    public static let listen = TCPState(rawValue: 10)
    public static let closing = TCPState(rawValue: 11)
    public static let newSynReceived = TCPState(rawValue: 12)

    /// The name `ss` prints, in the kernel's spelling: "SYN_RECV", "TIME_WAIT".
    public var description: String {
        switch rawValue {
        case 1: "ESTABLISHED"
        case 2: "SYN_SENT"
        case 3, 12: "SYN_RECV"
        case 4: "FIN_WAIT1"
        case 5: "FIN_WAIT2"
        case 6: "TIME_WAIT"
        case 7: "CLOSED"
        case 8: "CLOSE_WAIT"
        case 9: "LAST_ACK"
        case 10: "LISTEN"
        case 11: "CLOSING"
        default: "STATE_\(rawValue)"
        }
    }

    /// Reads the kernel's name back ("SYN_RECV" is 3); nil for another name ("CLOSED" is 7).
    public init?(name: String) {
        guard let raw = (1...12).first(where: { TCPState(rawValue: UInt8($0)).description == name }) else { return nil }
        self.init(rawValue: UInt8(raw))
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let state = TCPState(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown TCP state \(name)"))
        }
        self = state
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
