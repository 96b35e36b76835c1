import TCPLabCommandSupport
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// One faultproxy run: enter the namespace, install the table, relay until told to stop, then
/// remove the table and report what was dropped. The table is owned by the netlink socket
/// (NFT_TABLE_F_OWNER), so the kernel removes it even if this process is killed.
struct FaultSession {
    let plan: FaultPlan
    let scope: FaultProxyCommand.Scope
    let netns: NamespaceReference?
    let duration: Duration?
    let json: Bool
    let observation: Observation?
    /// Most segments --delay/--duplicate hold at once (NFQA_CFG_QUEUE_MAXLEN); beyond, fail-open.
    var queueCapacity: UInt32 = 1024

    /// What to watch and how to show it.
    struct Observation {
        var timeline: TimelineFormat?
        var pcap: String?
        /// Bytes of each packet the pcap keeps (nil: whole packets).
        var snaplen: UInt32?
        var states: Bool
        var group: UInt16
        /// Other namespaces whose sockets' states join the timeline (--states-netns).
        var stateNamespaces: [NamespaceReference] = []
        /// --ladder: the ladder in another format or into a file, at the end.
        var ladder: LadderRequest? = nil
    }

    private static let signalToken: UInt64 = 1 << 60
    private static let logToken: UInt64 = 1 << 59
    private static let traceToken: UInt64 = 1 << 57

    func run() throws {
        // Before any other thread exists: the namespace and the signal mask are per thread.
        if let netns { try NetworkNamespace.enter(netns) }
        let signals = try SignalFD()
        guard NetworkNamespace.hasNetAdminCapability() else {
            throw NFTablesError.needsCapNetAdmin(call: "faultproxy")
        }

        // Bind the NFLOG group before the rules exist, so the first segment is already seen.
        let watch = try observation.map { try ObservationSession(port: plan.port, group: $0.group, states: $0.states, pcap: $0.pcap != nil,
                                                               pcapSnapshotLength: max(ObservationSession.headerBytes, $0.snaplen ?? 0xFFFF),
                                                               stateNamespaces: $0.stateNamespaces, kernelEvents: true) }
        defer { watch?.close() }
        if let reason = watch?.kernelEventsUnavailable {
            printError("faultproxy: no kernel tracepoints (\(reason)); socket states come from sock_diag polls only")
        }
        let nftables = try NFTablesClient()
        // Delays, duplicates and drops of this host's own segments: bind the queue before the
        // rules can send segments to it.
        var livePlan = plan
        let delays = try plan.queuedFaults.isEmpty && plan.drops.isEmpty ? nil : startDelays(&livePlan, nftables)
        let table = try livePlan.linearize()
        try nftables.install(table)
        defer { try? nftables.deleteTable(family: table.family, name: table.name) }

        let epoll = try Epoll()
        defer { epoll.close() }
        try epoll.add(signals.descriptor, events: .readable, token: Self.signalToken)
        if let watch { try epoll.add(watch.logDescriptor, events: .readable, token: Self.logToken) }
        if let trace = watch?.traceDescriptor { try epoll.add(trace, events: .readable, token: Self.traceToken) }
        try delays?.register(with: epoll)
        let printer = observation.map { TimelinePrinter(format: $0.timeline) }
        var relay: Relay?
        if case .relay(let listen, let upstream, _) = scope {
            relay = try Relay(listen: listen, upstream: upstream, epoll: epoll, log: { printError("faultproxy: \($0)") })
        }
        defer { relay?.closeAll() }
        announce(table)

        let deadline = duration.map { MonotonicClock.now() + UInt64($0.totalNanoseconds) }
        loop: while true {
            var timeout: Int32 = -1
            if let deadline {
                let now = MonotonicClock.now()
                if now >= deadline { break loop }
                timeout = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            }
            // sock_diag has no events: poll the states every few milliseconds while watching them.
            if observation?.states == true { timeout = timeout < 0 ? 5 : min(timeout, 5) }
            // The queue first: a delay's hold is timed from when faultproxy reads the segment, so
            // printing the timeline line the same segment logged must not come before it.
            let ready = try epoll.wait(timeoutMilliseconds: timeout)
            let queueFirst = ready.filter { delays?.handles($0.0) == true } + ready.filter { delays?.handles($0.0) != true }
            for (token, events) in queueFirst {
                if token == Self.signalToken {
                    if signals.take() != nil { break loop }
                } else if token == Self.logToken, let watch {
                    printer?.print(segments: try watch.drainLog())
                } else if token == Self.traceToken, let watch {
                    printer?.print(kernel: watch.drainTrace())
                } else if let delays, delays.handles(token) {
                    try delays.handle(token)
                } else if let relay, relay.handles(token) {
                    relay.handle(token, events)
                }
            }
            if let watch { printer?.print(states: try watch.pollStates()) }
        }
        // What is still held goes on now, while the table (and its release chain) still logs it.
        delays?.releaseAll()
        // The kernel's own count of what it logged, then every record of it that can still come.
        let counters = try nftables.ruleCounters(family: table.family, table: table.name)
        if let watch {
            let (segments, kernelEvents, capture) = try watch.finish(counters: counters)
            printer?.print(segments: segments)
            printer?.print(kernel: kernelEvents)
            // A ladder asked for on stdout takes the text ladder's place.
            if observation?.ladder.map({ $0.path != nil }) ?? true { printer?.finish(watch, capture: capture) }
            if let ladder = observation?.ladder { try ladder.emit(watch) }
            if let path = observation?.pcap {
                try watch.writePcap(to: path)
                printError("faultproxy: wrote \(watch.events.count) segments to \(path)")
            }
            if capture.missed > 0 { printError("faultproxy: " + capture.summary) }
        }
        if let delays, !plan.queuedFaults.isEmpty {
            let report = DelayReport(engine: delays, counters: counters, plan: livePlan)
            if json { JSONLines.emit(DelayReportLine(queue: report)) }
            printError("faultproxy: " + report.summary)
        }
        report(DropReport(counters: counters, plan: plan))
    }

    /// Binds the queue and picks the queue statement this kernel has; says which on stderr when
    /// delays or duplicates use it (drops only queue this host's own segments, silently).
    private func startDelays(_ plan: inout FaultPlan, _ nftables: NFTablesClient) throws -> DelayEngine {
        plan.nativeQueue = try nftables.supportsNativeQueue()
        let engine = try DelayEngine(plan: plan, queueCapacity: queueCapacity, log: { printError("faultproxy: \($0)") })
        plan.queueNumber = engine.queueNumber
        guard !plan.queuedFaults.isEmpty else { return engine }
        printError(plan.nativeQueue
            ? "faultproxy: queueing delayed/duplicated segments to NFQUEUE \(plan.queueNumber) with the native nft queue statement"
            : "faultproxy: queueing delayed/duplicated segments to NFQUEUE \(plan.queueNumber) with the x_tables NFQUEUE target (nft_compat; this kernel has no native nft queue)")
        return engine
    }

    private func announce(_ table: NFTTable) {
        let faults = (plan.drops.map { "drop \($0)" } + plan.delays.map { "delay \($0)" } + plan.duplicates.map { "duplicate \($0)" })
            .joined(separator: ", ")
        let place: String
        switch scope {
        case .relay(let listen, let upstream, let port):
            place = "relaying \(listen) → \(upstream), faults on port \(port)"
        case .transparent(let port):
            place = "faults on every connection of port \(port)"
        }
        let namespace = netns.map { " in netns \($0)" } ?? ""
        printError("faultproxy: \(faults); \(place)\(namespace) (table inet \(table.name)). Ctrl-C to stop.")
    }

    private func report(_ report: DropReport) {
        if json { JSONLines.emit(report) }
        printError("faultproxy: " + report.summary)
    }
}
