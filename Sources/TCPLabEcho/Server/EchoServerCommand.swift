import ArgumentParser
import TCPLabCommandSupport
import TCPLabSystem

public struct EchoServerCommand: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "Echo every byte back over plain kernel TCP, with the knobs a TCP lab needs.",
        discussion: """
            One thread, one epoll instance, non-blocking sockets: the server holds thousands of \
            connections without a thread each, and every socket call is visible to strace.
            When accept() fails for lack of descriptors (EMFILE at --max-files or the usual \
            open-file limit, ENFILE, ENOBUFS, ENOMEM) the server reports one error event, stops \
            polling the listener (level-triggered, it would spin) and tries again when one of \
            its connections closes, or after 50 ms doubling to 1 s; a "resumed" event ends the \
            episode once no connection waits in the accept queue. Meanwhile the kernel keeps completing \
            handshakes into the accept queue.
            Exit status: 0 after SIGINT/SIGTERM, 1 when the listener cannot be set up.
            """
    )

    @Option(help: "Address to listen on (IPv4 or IPv6 literal).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 7000

    @Option(help: "listen() backlog: the accept queue's length.")
    var backlog: Int32 = 128

    @Option(help: "Whether to accept connections: always, or never (listen only, so the accept queue fills).")
    var accept: AcceptMode = .always

    @Option(name: .customLong("accept-delay"), help: "Start accepting only this long after listening (e.g. 2s).")
    var acceptDelay: DurationArgument?

    @Option(
        help: ArgumentHelp(
            "When to close an accepted connection: peer (when the client closes), never (leave CLOSE_WAIT), first (after echoing the first message), after:DURATION (that long after accept).",
            valueName: "policy"
        )
    )
    var close: ClosePolicy = .peer

    @Flag(name: .customLong("shutdown-write"), help: "Half-close with shutdown(SHUT_WR) instead of close(); the socket is closed once the client closes too.")
    var shutdownWrite = false

    @Flag(name: .customLong("linger-reset"), help: "Set SO_LINGER {1, 0} so close() sends RST instead of FIN.")
    var lingerReset = false

    @Option(help: ArgumentHelp("Keepalive on accepted sockets: TCP_KEEPIDLE,TCP_KEEPINTVL,TCP_KEEPCNT in seconds.", valueName: "idle,interval,count"))
    var keepalive: Keepalive?

    @Option(name: .customLong("max-files"), help: ArgumentHelp(
        "Lower the open-file limit (soft RLIMIT_NOFILE) to N once listening: accept() fails with EMFILE when the descriptor it needs would be the N+1-th (default: raise it to the hard limit).",
        valueName: "N"))
    var maxFiles: Int?

    @Flag(inversion: .prefixedNo, help: "SO_REUSEADDR on the listener, so a restart binds despite TIME_WAIT.")
    var reuseaddr = true

    @Flag(help: "Print one JSON object per event (listening, accepted, echoed, shutdown, closed, error, resumed) on stdout.")
    var json = false

    public init() {}

    public func validate() throws {
        try validatePort(port, option: "--port")
        guard backlog >= 0 else { throw ValidationError("--backlog must not be negative") }
        if let maxFiles, maxFiles < 1 { throw ValidationError("--max-files must be at least 1") }
        if accept == .never, acceptDelay != nil {
            throw ValidationError("--accept-delay has no effect with --accept never")
        }
    }

    public func run() throws {
        let configuration = try serverConfiguration()
        do {
            try EchoServer(configuration).run()
        } catch {
            EchoServer.report(ServerEvent(event: "error", message: "\(error)"), json: json, human: "echo-server: \(error)")
            throw ExitStatus.failure
        }
    }

    /// Serves on the calling thread (inside whatever namespace it is in) until `stop`, handing
    /// each event as a JSON line to `output` and a line for people to `errors`, as the
    /// program would print them. For a lab's in-process peer; --max-files needs a process of
    /// its own (the open-file limit is the whole process's).
    public func serve(until stop: some StopRequest, output: @escaping @Sendable (String) -> Void,
                      errors: @escaping @Sendable (String) -> Void) throws {
        guard maxFiles == nil else { throw ValidationError("--max-files lowers the whole process's open-file limit: run the echo-server executable for it") }
        var configuration = try serverConfiguration()
        let json = json
        configuration.events = { event, human in if json { output(JSONLines.encode(event)) } else { errors(human) } }
        do {
            try EchoServer(configuration).run(until: stop)
        } catch {
            configuration.events?(ServerEvent(event: "error", message: "\(error)"), "echo-server: \(error)")
            throw error
        }
    }

    private func serverConfiguration() throws -> EchoServer.Configuration {
        let address: SocketAddress
        do {
            address = try SocketAddress(host: host, port: UInt16(port))
        } catch {
            throw ValidationError("--host: \(error)")
        }
        return EchoServer.Configuration(
            address: address, backlog: backlog, accept: accept,
            acceptDelay: acceptDelay?.duration, close: close, shutdownWrite: shutdownWrite,
            lingerReset: lingerReset, keepalive: keepalive, reuseAddress: reuseaddr, json: json,
            maxFiles: maxFiles.map(UInt64.init)
        )
    }
}
