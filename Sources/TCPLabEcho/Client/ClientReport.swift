import TCPLabSystem

/// The one `--json` object echo-client prints at the end.
struct ClientReport: Encodable {
    /// From the connect() call to its return, for the last connection attempted.
    var connectMilliseconds: Double?
    var echoOK: Bool
    /// Bytes echoed back and verified, over all connections.
    var bytes: Int
    /// Bytes written without waiting for an echo (--send-only).
    var sent = 0
    /// When the first write() began, from the client's start (the same clock as elapsed_ms), so a
    /// reader can tell how long after its first data the connection broke.
    var firstWriteMilliseconds: Double?
    /// nil, or the errno name ("ETIMEDOUT", "ECONNREFUSED") or "EBADECHO" for a wrong echo.
    var error: String?
    var elapsedMilliseconds: Double
    var connections: Int
    var local: String?
    var tcpInfo: TCPInfoSummary?

    enum CodingKeys: String, CodingKey {
        case connectMilliseconds = "connect_ms"
        case echoOK = "echo_ok"
        case bytes, sent, error, connections, local
        case firstWriteMilliseconds = "first_write_ms"
        case elapsedMilliseconds = "elapsed_ms"
        case tcpInfo = "tcp_info"
    }

    func encode(to encoder: any Encoder) throws {
        // connect_ms, error and tcp_info are always present, null when unknown, so readers need no key checks.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(connectMilliseconds, forKey: .connectMilliseconds)
        try container.encode(echoOK, forKey: .echoOK)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(error, forKey: .error)
        try container.encode(sent, forKey: .sent)
        try container.encode(firstWriteMilliseconds, forKey: .firstWriteMilliseconds)
        try container.encode(elapsedMilliseconds, forKey: .elapsedMilliseconds)
        try container.encode(connections, forKey: .connections)
        try container.encode(local, forKey: .local)
        try container.encode(tcpInfo, forKey: .tcpInfo)
    }
}
