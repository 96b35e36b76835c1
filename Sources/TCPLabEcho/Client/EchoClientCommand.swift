import ArgumentParser
import TCPLabCommandSupport
import TCPLabSchema
import TCPLabSystem

public struct EchoClientCommand: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "echo-client",
        abstract: "Connect over plain kernel TCP, send, check the echo, and close the way a lab asks.",
        discussion: """
            Exit status: 0 when every echo matched; 2 when connect() failed (refused, timed out); \
            3 when an echo did not match; 4 when the connection broke after it was up (reset, \
            timeout); 1 for anything else. Errors are one line on stderr naming the errno and \
            how long the call took.
            """
    )

    @Option(help: "Server address (IPv4 or IPv6 literal).")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port = 7000

    @Option(help: "Text to send in each message.")
    var message: String?

    @Option(help: "Send N generated, verifiable bytes per message instead of --message.")
    var bytes: Int?

    @Option(help: "Messages per connection.")
    var count = 1

    @Option(help: "Connections to make, one after the other.")
    var connections = 1

    @Option(help: ArgumentHelp("Bind the client socket first to this source address: [HOST:]PORT.", valueName: "[host:]port"))
    var bind: String?

    @Option(name: .customLong("connect-timeout"), help: "Give up connecting after this long (default: none, the kernel's SYN retries decide).")
    var connectTimeout: DurationArgument?

    @Option(help: ArgumentHelp("Keepalive: TCP_KEEPIDLE,TCP_KEEPINTVL,TCP_KEEPCNT in seconds.", valueName: "idle,interval,count"))
    var keepalive: Keepalive?

    @Flag(name: .customLong("linger-reset"), help: "Set SO_LINGER {1, 0} so close() sends RST instead of FIN.")
    var lingerReset = false

    @Option(help: "Stay idle this long after connecting, before sending (to watch keepalive or handshake faults).")
    var hold: DurationArgument?

    @Option(name: .customLong("user-timeout"), help: "TCP_USER_TIMEOUT: give up on unacknowledged data after this long (default: tcp_retries2 decides).")
    var userTimeout: DurationArgument?

    @Flag(name: .customLong("send-only"), help: "Write each message without reading its echo: a write error shows what the kernel knows of the peer.")
    var sendOnly = false

    @Option(help: "Wait this long between messages (default: none).")
    var interval: DurationArgument?

    @Option(help: "Who closes and how: first (the client closes after the echo), wait-peer (wait for the server to close), shutdown (half-close, then wait), never (hold until SIGINT/SIGTERM).")
    var close: ClientClose = .first

    @Flag(help: "Print exactly one JSON object at the end: connect_ms, echo_ok, bytes, error, elapsed_ms, tcp_info.")
    var json = false

    public init() {}

    public func validate() throws {
        try validatePort(port, option: "--port")
        if message != nil, bytes != nil { throw ValidationError("use --message or --bytes, not both") }
        if let bytes, bytes < 1 { throw ValidationError("--bytes must be at least 1") }
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        if let bind { _ = try parseBind(bind) }
        // TCP_USER_TIMEOUT is an int of milliseconds; 0 would mean "off".
        if let userTimeout, !(1_000_000...Int64(Int32.max) * 1_000_000).contains(userTimeout.duration.totalNanoseconds) {
            throw ValidationError("--user-timeout must be at least 1ms and at most \(Int32.max) ms")
        }
        _ = try serverAddress()
    }

    func serverAddress() throws -> SocketAddress {
        do { return try SocketAddress(host: host, port: UInt16(port)) } catch { throw ValidationError("--host: \(error)") }
    }

    func parseBind(_ text: String) throws -> SocketAddress {
        let defaultHost = (try? serverAddress())?.family == .ipv6 ? "::" : "0.0.0.0"
        do { return try SocketAddress(parsing: text, defaultHost: defaultHost) } catch { throw ValidationError("--bind: \(error)") }
    }

    public func run() throws {
        let (report, failure) = try connect()
        if let report { JSONLines.emit(report) }
        if let failure {
            printError("echo-client: \(failure.message)")
            throw failure.status
        }
    }

    /// Runs the client on the calling thread (inside whatever namespace it is in) and returns
    /// what the program would print: the JSON report (with --json) and the error line, and its
    /// exit status. For a lab's in-process peer.
    public func runInProcess() -> (status: Int32, report: String?, error: String?) {
        guard close != .never else { return (ExitCode.validationFailure.rawValue, nil, "echo-client: --close never holds until a signal: run the echo-client executable for it") }
        do {
            let (report, failure) = try connect()
            return (failure?.status.rawValue ?? 0, report.map { JSONLines.encode($0) }, failure.map { "echo-client: \($0.message)" })
        } catch {
            return (ExitCode.validationFailure.rawValue, nil, "echo-client: \(error)")
        }
    }

    private func connect() throws -> (report: EchoClientReport?, failure: EchoClient.Failure?) {
        let client = EchoClient(
            server: try serverAddress(),
            payload: bytes.map(Payload.generated) ?? .text(message ?? "hello"),
            count: count, connections: connections,
            bind: try bind.map(parseBind),
            connectTimeout: connectTimeout?.duration, keepalive: keepalive, lingerReset: lingerReset,
            hold: hold?.duration, userTimeout: userTimeout?.duration, sendOnly: sendOnly,
            interval: interval?.duration, close: close
        )
        let outcome = client.run()
        return (json ? outcome.report : nil, outcome.failure)
    }
}
