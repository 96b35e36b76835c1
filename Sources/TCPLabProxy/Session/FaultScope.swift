import TCPLabSystem

/// What a session's rules act on: a relay's leg, or every connection of a server port.
public enum FaultScope: Sendable, Equatable {
    /// Accept on `listen`, connect to `upstream`, copy both ways; the rules act on `rulePort`'s leg.
    case relay(listen: SocketAddress, upstream: SocketAddress, rulePort: UInt16)
    /// No relay: the rules act on every connection to or from the port.
    case transparent(port: UInt16)

    public var rulePort: UInt16 {
        switch self {
        case .relay(_, _, let port), .transparent(let port): port
        }
    }
}
