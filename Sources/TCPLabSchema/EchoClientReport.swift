/// The one `--json` object echo-client prints at the end.
public struct EchoClientReport: Codable, Sendable, Equatable {
    /// From the connect() call to its return, for the last connection attempted.
    @ExplicitNull public var connectMilliseconds: Double?
    public var echoOK: Bool
    /// Bytes echoed back and verified, over all connections.
    public var bytes: Int
    /// Bytes written without waiting for an echo (--send-only).
    public var sent = 0
    /// When the first write() began, from the client's start (the same clock as elapsed_ms), so a
    /// reader can tell how long after its first data the connection broke.
    @ExplicitNull public var firstWriteMilliseconds: Double?
    /// nil, or the errno name ("ETIMEDOUT", "ECONNREFUSED") or "EBADECHO" for a wrong echo.
    @ExplicitNull public var error: String?
    public var elapsedMilliseconds: Double
    public var connections: Int
    @ExplicitNull public var local: String?
    @ExplicitNull public var tcpInfo: TCPInfoSummary?

    public init(connectMilliseconds: Double? = nil, echoOK: Bool, bytes: Int, sent: Int = 0, firstWriteMilliseconds: Double? = nil,
                error: String? = nil, elapsedMilliseconds: Double, connections: Int, local: String? = nil,
                tcpInfo: TCPInfoSummary? = nil) {
        self.connectMilliseconds = connectMilliseconds
        self.echoOK = echoOK
        self.bytes = bytes
        self.sent = sent
        self.firstWriteMilliseconds = firstWriteMilliseconds
        self.error = error
        self.elapsedMilliseconds = elapsedMilliseconds
        self.connections = connections
        self.local = local
        self.tcpInfo = tcpInfo
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        connectMilliseconds = try container.decodeIfPresent(Double.self, forKey: .connectMilliseconds)
        echoOK = try container.decode(Bool.self, forKey: .echoOK)
        bytes = try container.decode(Int.self, forKey: .bytes)
        sent = try container.decodeIfPresent(Int.self, forKey: .sent) ?? 0
        firstWriteMilliseconds = try container.decodeIfPresent(Double.self, forKey: .firstWriteMilliseconds)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        elapsedMilliseconds = try container.decode(Double.self, forKey: .elapsedMilliseconds)
        connections = try container.decode(Int.self, forKey: .connections)
        local = try container.decodeIfPresent(String.self, forKey: .local)
        tcpInfo = try container.decodeIfPresent(TCPInfoSummary.self, forKey: .tcpInfo)
    }

    enum CodingKeys: String, CodingKey {
        case connectMilliseconds = "connect_ms"
        case echoOK = "echo_ok"
        case bytes, sent, error, connections, local
        case firstWriteMilliseconds = "first_write_ms"
        case elapsedMilliseconds = "elapsed_ms"
        case tcpInfo = "tcp_info"
    }
}
