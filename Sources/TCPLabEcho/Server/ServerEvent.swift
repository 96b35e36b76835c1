import TCPLabSystem

/// One `--json` line. `event` is one of listening, accepted, echoed, shutdown, closed, error,
/// resumed (accept() works again after an EMFILE episode: `failures`, `duration_ms`).
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
    /// listening with --max-files: the soft RLIMIT_NOFILE, and how many descriptors are still
    /// free under it (the connections the server can accept before EMFILE).
    var maxFiles: Int? = nil
    var freeFiles: Int? = nil
    /// error from a system call the server survives (accept4 at EMFILE): its name, and when it
    /// polls the listener again at the latest.
    var call: String? = nil
    var retryMilliseconds: Int? = nil
    /// resumed: accept() calls that failed in the episode, and how long it lasted.
    var failures: Int? = nil
    var durationMilliseconds: Double? = nil

    enum CodingKeys: String, CodingKey {
        case event, address, backlog, peer, bytes, how, error, message, call, failures
        case tcpInfo = "tcp_info"
        case maxFiles = "max_files"
        case freeFiles = "free_files"
        case retryMilliseconds = "retry_ms"
        case durationMilliseconds = "duration_ms"
    }
}
