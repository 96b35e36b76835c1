import ArgumentParser
import TCPLabCommandSupport
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

extension TimelineFormat: ExpressibleByArgument {}

/// `tcplab watch`: the timeline and socket states of any port, with no fault installed. The only
/// rule is a log rule in an owned table (gone when this process is), so NFLOG sees every segment.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Show the segments and socket states of a port live, without installing a fault.",
        discussion: "Stops on Ctrl-C or after --for, then prints the whole run as a ladder (text) or ends the JSON lines."
    )

    @Option(help: "The server port to watch (segments to and from it).")
    var port: Int

    @Option(help: ArgumentHelp("Watch inside this network namespace: a name (ip netns add NAME), a path (/proc/PID/ns/net) or pid:N.",
                               valueName: "name|path|pid:N"), transform: { try NamespaceReference(parsing: $0) })
    var netns: NamespaceReference?

    @Option(help: "text (a line per event, then the ladder) or json (one object per line).")
    var format: TimelineFormat = .text

    @Option(help: ArgumentHelp("Also write the segments to this pcap file.", valueName: "file"))
    var pcap: String?

    @Option(name: .customLong("log-group"), help: "NFLOG group (one listener per group per namespace).")
    var logGroup: UInt16 = 7001

    @Option(name: .customLong("for"), help: "Stop by itself after this long.")
    var duration: DurationArgument?

    func validate() throws {
        try validatePort(port, option: "--port")
        if let pcap {
            do { try PcapWriter.checkDestination(pcap) } catch { throw ValidationError("--pcap: \(error)") }
        }
    }

    func run() throws {
        do {
            try watch()
        } catch {
            printError("tcplab watch: \(error)")
            throw ExitStatus.failure
        }
    }

    private func watch() throws {
        // Per-thread state first: the namespace and the signal mask.
        if let netns { try NetworkNamespace.enter(netns) }
        let signals = try SignalFD()
        guard NetworkNamespace.hasNetAdminCapability() else { throw NFTablesError.needsCapNetAdmin(call: "tcplab watch") }
        let session = try ObservationSession(port: UInt16(port), group: logGroup, states: true, pcap: pcap != nil, kernelEvents: true)
        defer { session.close() }
        if let reason = session.kernelEventsUnavailable {
            printError("tcplab watch: no kernel tracepoints (\(reason)); socket states come from sock_diag polls only")
        }
        let table = try FaultPlan(port: UInt16(port), logGroup: logGroup, tableName: "tcplab_watch_\(currentProcessID())").linearize()
        let nftables = try NFTablesClient()
        try nftables.install(table)
        defer { try? nftables.deleteTable(family: table.family, name: table.name) }

        let epoll = try Epoll()
        defer { epoll.close() }
        try epoll.add(signals.descriptor, events: .readable, token: 0)
        try epoll.add(session.logDescriptor, events: .readable, token: 1)
        if let trace = session.traceDescriptor { try epoll.add(trace, events: .readable, token: 2) }
        let printer = TimelinePrinter(format: format)
        printError("tcplab watch: port \(port)\(netns.map { " in netns \($0)" } ?? ""). Ctrl-C to stop.")

        let deadline = duration.map { MonotonicClock.now() + UInt64($0.duration.totalNanoseconds) }
        loop: while true {
            var timeout: Int32 = 5  // sock_diag has no events: poll the states every 5 ms
            if let deadline {
                let now = MonotonicClock.now()
                if now >= deadline { break loop }
                timeout = Int32(min(5, (deadline - now + 999_999) / 1_000_000))
            }
            for (token, _) in try epoll.wait(timeoutMilliseconds: timeout) {
                if token == 0, signals.take() != nil { break loop }
                if token == 1 { printer.print(segments: try session.drainLog()) }
                if token == 2 { printer.print(kernel: session.drainTrace()) }
            }
            printer.print(states: try session.pollStates())
        }
        let (segments, kernelEvents, capture) = try session.finish(counters: try nftables.ruleCounters(family: table.family, table: table.name))
        printer.print(segments: segments)
        printer.print(kernel: kernelEvents)
        printer.finish(session, capture: capture)
        if let pcap { try session.writePcap(to: pcap) }
        if capture.missed > 0 { printError("tcplab watch: " + capture.summary) }
    }
}
