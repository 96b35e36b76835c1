/// One line of echo-server's `--json` output. `event` is one of listening, accepted, echoed, shutdown, closed, error,
/// resumed (accept() works again after an EMFILE episode: `failures`, `duration_ms`).
public struct EchoServerEvent: Codable, Sendable, Equatable {
    public var event: String
    public var address: String? = nil
    public var backlog: Int? = nil
    public var peer: String? = nil
    public var bytes: Int? = nil
    /// closed: "close", "shutdown" (half-close), "reset" (SO_LINGER {1,0}), "error".
    public var how: String? = nil
    public var error: String? = nil
    public var message: String? = nil
    public var tcpInfo: TCPInfoSummary? = nil
    /// listening with --max-files: the soft RLIMIT_NOFILE, and how many descriptors are still
    /// free under it (the connections the server can accept before EMFILE).
    public var maxFiles: Int? = nil
    public var freeFiles: Int? = nil
    /// error from a system call the server survives (accept4 at EMFILE): its name, and when it
    /// polls the listener again at the latest.
    public var call: String? = nil
    public var retryMilliseconds: Int? = nil
    /// resumed: accept() calls that failed in the episode, and how long it lasted.
    public var failures: Int? = nil
    public var durationMilliseconds: Double? = nil

    public init(event: String, address: String? = nil, backlog: Int? = nil, peer: String? = nil, bytes: Int? = nil,
                how: String? = nil, error: String? = nil, message: String? = nil, tcpInfo: TCPInfoSummary? = nil,
                maxFiles: Int? = nil, freeFiles: Int? = nil, call: String? = nil, retryMilliseconds: Int? = nil,
                failures: Int? = nil, durationMilliseconds: Double? = nil) {
        self.event = event
        self.address = address
        self.backlog = backlog
        self.peer = peer
        self.bytes = bytes
        self.how = how
        self.error = error
        self.message = message
        self.tcpInfo = tcpInfo
        self.maxFiles = maxFiles
        self.freeFiles = freeFiles
        self.call = call
        self.retryMilliseconds = retryMilliseconds
        self.failures = failures
        self.durationMilliseconds = durationMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case event, address, backlog, peer, bytes, how, error, message, call, failures
        case tcpInfo = "tcp_info"
        case maxFiles = "max_files"
        case freeFiles = "free_files"
        case retryMilliseconds = "retry_ms"
        case durationMilliseconds = "duration_ms"
    }
}
