import ArgumentParser
import TCPLabCommandSupport
import TCPLabFault
import TCPLabObserve
import TCPLabProxy
import TCPLabSystem

@main
struct FaultProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faultproxy",
        abstract: "Make the kernel lose exactly the TCP segments you name, and show what it does about it.",
        discussion: """
            Faults are nftables rules in a table of faultproxy's own (inet faultproxy_<pid>), built \
            with libnftnl and sent over netlink in one batch. The kernel owns the table for \
            faultproxy's netlink socket, so it disappears with the process, even after SIGKILL.

            Relay mode (default): accept on --listen, connect to --upstream, copy both ways; the \
            rules act on the client leg (or --leg upstream). Transparent mode (--target PORT): no \
            relay, the rules act on every connection to or from that port.

            Segments: \(SegmentKind.validNames).
            Counts: SEG (every one), SEG:N (the first N per connection), SEG@K (only the K-th), \
            SEG%P (each with probability P; repeatable with --seed).

            Example: echo-server & faultproxy --drop synack & echo-client --port 7001
            Exit status: 0 after SIGINT/SIGTERM or --for; 1 when the kernel refuses or a \
            privilege is missing; 64 for bad input.
            """,
        // `faultproxy serve` is a subcommand; without one, faultproxy is the fault command it always was.
        subcommands: [ServeCommand.self]
    )

    @Option(name: .customLong("drop"), help: ArgumentHelp("Drop segments: SEG, SEG:N, SEG@K or SEG%P (repeatable).", valueName: "spec"))
    var drops: [String] = []

    @Option(name: .customLong("delay"), help: ArgumentHelp("Hold segments in userspace, then release them: SEG[:N|@K]=DURATION[~JITTER] (repeatable).", valueName: "spec"))
    var delays: [String] = []

    @Option(name: .customLong("duplicate"), help: ArgumentHelp("Let segments pass and re-inject a copy later: SEG[:N|@K]=DURATION (repeatable).", valueName: "spec"))
    var duplicates: [String] = []

    @Option(name: .customLong("queue-capacity"), help: "Most segments --delay/--duplicate hold at once; beyond it they pass undelayed (fail-open, counted in the report).")
    var queueCapacity: UInt32 = 1024

    @Option(help: ArgumentHelp("Only act on segments sent by this end: client or server.", valueName: "end"))
    var from: Endpoint?

    @Option(help: "Seed for SEG%P, so the same connections lose the same segments run after run.")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Relay: address to accept clients on.", valueName: "host:port"))
    var listen = "127.0.0.1:7001"

    @Option(help: ArgumentHelp("Relay: the real server.", valueName: "host:port"))
    var upstream = "127.0.0.1:7000"

    @Option(help: "Relay: which leg the rules act on: client (client ↔ faultproxy) or upstream (faultproxy ↔ server).")
    var leg: RelayLeg = .client

    @Option(help: ArgumentHelp("Transparent mode: no relay; act on every connection to or from this server port.", valueName: "[host:]port"))
    var target: String?

    @Option(help: ArgumentHelp(
        "Act inside this network namespace: a name (ip netns add NAME), a path (/proc/PID/ns/net, a bind mount) or pid:N (a container's: docker inspect -f '{{.State.Pid}}').",
        valueName: "name|path|pid:N"), transform: { try NamespaceReference(parsing: $0) })
    var netns: NamespaceReference?

    @Option(name: .customLong("for"), help: "Stop by itself after this long (default: run until SIGINT/SIGTERM).")
    var duration: DurationArgument?

    @Option(help: "Print every segment of the watched connections as it crosses: text (a ladder) or json (one object per line).")
    var timeline: TimelineFormat?

    @Option(help: ArgumentHelp(
        "At the end, draw the run's ladder as text, svg (a self-contained picture) or mermaid (a sequenceDiagram for Markdown), on stdout or into FILE. Add --states for the sockets' states.",
        valueName: "format[=file]"))
    var ladder: LadderRequest?

    @Option(help: ArgumentHelp("Write the segments to this pcap file (kernel timestamps; tcpdump -r and Wireshark read it).", valueName: "file"))
    var pcap: String?

    @Option(help: ArgumentHelp("With --pcap: keep the first N bytes of each packet (default: whole packets). The timeline itself copies only the headers (128 bytes), from a packet ring for the segments that arrive and from NFLOG for faults and this host's own.",
                               valueName: "bytes"))
    var snaplen: UInt32?

    @Flag(help: "Add the sockets' states and timers (sock_diag) to the timeline.")
    var states = false

    @Option(name: .customLong("states-netns"), help: ArgumentHelp(
        "Also follow the states of sockets in this namespace (the other end's host; name, path or pid:N). Implies --states. Repeatable.",
        valueName: "name|path|pid:N"), transform: { try NamespaceReference(parsing: $0) })
    var stateNamespaces: [NamespaceReference] = []

    @Option(name: .customLong("log-group"), help: "NFLOG group for the timeline (one listener per group per namespace).")
    var logGroup: UInt16 = 7000

    @Option(name: .customLong("watcher-priority"), help: ArgumentHelp(
        "idle: when faultproxy only watches and drops (no --delay/--duplicate, no relay; records of at most 1024 bytes), its watch runs on a thread of its own at SCHED_IDLE, so a transfer that keeps every CPU busy is slowed less by its timeline: the lines lag and catch up, the kernel buffers the records. normal: keep up at the transfer's expense.",
        valueName: "idle|normal"))
    var watcherPriority: WatcherPriority = .idle

    @Flag(name: .customLong("dry-run"), help: "Print the rules in nft syntax and exit without touching the kernel.")
    var dryRun = false

    @Flag(help: "List the active faultproxy tables with their counters, then exit.")
    var list = false

    @Flag(help: "Remove faultproxy tables that a killed run left behind, then exit.")
    var cleanup = false

    @Flag(help: "Print the final drop report as one JSON object on stdout.")
    var json = false

    enum RelayLeg: String, ExpressibleByArgument, CaseIterable { case client, upstream }

    /// Whether the run watches segments at all (then the rules log them to --log-group).
    var observes: Bool { timeline != nil || pcap != nil || ladder != nil || watchesStates }
    var watchesStates: Bool { states || !stateNamespaces.isEmpty }

    func validate() throws {
        if list || cleanup {
            guard drops.isEmpty, delays.isEmpty, duplicates.isEmpty, !(list && cleanup) else {
                throw ValidationError("--list and --cleanup stand alone: no faults with them, and not both")
            }
            return
        }
        // A command line with no fault and nothing to watch is refused in run(), not here:
        // argument-parser names an unknown option only after validate() passes, and
        // `faultproxy --bogus-flag` should hear about --bogus-flag, not "nothing to do".
        if !drops.isEmpty || !delays.isEmpty || !duplicates.isEmpty || observes {
            _ = try plan(logGroup: observes ? logGroup : nil)  // watching alone (no faults) is valid
        }
        _ = try scope()
        guard queueCapacity >= 1 else { throw ValidationError("--queue-capacity must be at least 1") }
        if snaplen != nil, pcap == nil { throw ValidationError("--snaplen is for --pcap: the timeline copies headers only") }
        if json, timeline == .json {
            throw ValidationError("--json and --timeline json both write JSON lines on stdout: use one")
        }
        if let ladder, ladder.path == nil, json || timeline == .json {
            throw ValidationError("--ladder \(ladder.format.rawValue) would share stdout with JSON lines: give it a file (--ladder \(ladder.format.rawValue)=FILE)")
        }
        if let path = ladder?.path, !dryRun {
            do { try PcapWriter.checkDestination(path) } catch { throw ValidationError("--ladder: \(error)") }
        }
        if let pcap, !dryRun {
            do { try PcapWriter.checkDestination(pcap) } catch { throw ValidationError("--pcap: \(error)") }
        }
    }

    func scope() throws -> FaultScope {
        do {
            if let target {
                return .transparent(port: try SocketAddress(parsing: target).port)
            }
            let listenAddress = try SocketAddress(parsing: listen)
            let upstreamAddress = try SocketAddress(parsing: upstream)
            guard listenAddress != upstreamAddress else {
                throw ValidationError("--listen and --upstream are the same address (\(listenAddress)): the relay would connect to itself")
            }
            return .relay(listen: listenAddress, upstream: upstreamAddress,
                          rulePort: leg == .client ? listenAddress.port : upstreamAddress.port)
        } catch let error as SocketAddressError {
            throw ValidationError(target != nil ? "--target: \(error)" : "\(error)")
        }
    }

    func plan(logGroup: UInt16? = nil) throws -> FaultPlan {
        do {
            let plan = FaultPlan(
                port: try scope().rulePort,
                drops: try drops.map { (text) throws(FaultSpecError) in try DropSpec(parsing: text) },
                delays: try delays.map { (text) throws(FaultSpecError) in try DelaySpec(parsing: text) },
                duplicates: try duplicates.map { (text) throws(FaultSpecError) in try DuplicateSpec(parsing: text) },
                from: from, logGroup: logGroup, seed: seed
            )
            try plan.validate()
            return plan
        } catch let error as FaultSpecError {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        if list || cleanup {
            try Maintenance(netns: netns).run(list ? .list : .cleanup)
            return
        }
        let plan = try plan(logGroup: observes ? logGroup : nil)
        if dryRun {
            do {
                print(NFTSyntaxRenderer.render(try plan.linearize()), terminator: "")
            } catch {
                throw ValidationError("\(error)")
            }
            return
        }
        let session = FaultSession(plan: plan, scope: try scope(), netns: netns, duration: duration?.duration,
                                   watch: observes ? .init(group: logGroup, states: watchesStates, pcap: pcap != nil, snaplen: snaplen,
                                                           stateNamespaces: stateNamespaces, yieldCPU: watcherPriority == .idle) : nil,
                                   queueCapacity: queueCapacity)
        let output = ConsoleOutput(faults: plan.summary, namespace: netns, json: json, timeline: timeline, watching: observes,
                                   ladder: ladder, pcap: pcap)
        do {
            // Before any other thread exists: the signal mask is per thread.
            try session.run(stop: try SignalFD(), output: output)
        } catch {
            printError("faultproxy: \(error)")
            throw ExitStatus.failure
        }
    }
}

extension Endpoint: ExpressibleByArgument {}
extension TimelineFormat: ExpressibleByArgument {}
extension LadderRequest: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// `--watcher-priority`.
enum WatcherPriority: String, ExpressibleByArgument, CaseIterable {
    case idle, normal
}
