import TCPLabSystem

/// One `--json` line. `event` is one of listening, accepted, echoed, closed, error.
struct ServerEvent: Encodable {
    var event: String
    var address: String? = nil
    var backlog: Int? = nil
    var peer: String? = nil
    var bytes: Int? = nil
    /// closed: "close", "shutdown" (half-close), "reset" (SO_LINGER {1,0}), "error".
    var how: String? = nil
    var error: String? = nil
    var message: String? = nil
    var tcpInfo: TCPInfoSummary? = nil

    enum CodingKeys: String, CodingKey {
        case event, address, backlog, peer, bytes, how, error, message
        case tcpInfo = "tcp_info"
    }
}
