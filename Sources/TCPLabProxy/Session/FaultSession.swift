import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

/// One fault run: enter the namespace, install the table, relay and watch until told to stop,
/// then report and remove the table. The table is owned by the netlink socket
/// (NFT_TABLE_F_OWNER), so the kernel removes it even if the process is killed.
///
/// `run` takes the calling thread: setns(2) is per thread, so the faultproxy command calls it on
/// its only thread and the library on a thread of the session's own.
public struct FaultSession: Sendable {
    public var plan: FaultPlan
    public var scope: FaultScope
    public var netns: NamespaceReference?
    /// Stop by itself after this long (nil: until the stop request).
    public var duration: Duration?
    public var watch: Watch?
    /// Most segments delays and duplicates hold at once (NFQA_CFG_QUEUE_MAXLEN); beyond, fail-open.
    public var queueCapacity: UInt32

    /// What to watch.
    public struct Watch: Sendable {
        public var group: UInt16
        public var states: Bool
        /// Keep whole packets (up to `snaplen`) for a pcap, not just the headers.
        public var pcap: Bool
        /// Bytes of each packet the pcap keeps (nil: whole packets).
        public var snaplen: UInt32?
        /// Other namespaces whose sockets' states join the timeline (the other end's host).
        public var stateNamespaces: [NamespaceReference]
        /// Watch at SCHED_IDLE where nothing else needs this thread (`yieldsToTraffic`).
        public var yieldCPU: Bool

        public init(group: UInt16, states: Bool, pcap: Bool = false, snaplen: UInt32? = nil, stateNamespaces: [NamespaceReference] = [],
                    yieldCPU: Bool = false) {
            self.group = group
            self.states = states
            self.pcap = pcap
            self.snaplen = snaplen
            self.stateNamespaces = stateNamespaces
            self.yieldCPU = yieldCPU
        }

        /// The largest copy per segment with which the watch may fall behind: the kernel holds
        /// the backlog in the packet ring and the NFLOG socket's buffer (32 MiB each, ~150k
        /// header-only segments).
        static let largestYieldingCopy: UInt32 = 1024
    }

    public init(plan: FaultPlan, scope: FaultScope, netns: NamespaceReference? = nil, duration: Duration? = nil,
                watch: Watch? = nil, queueCapacity: UInt32 = 1024) {
        self.plan = plan
        self.scope = scope
        self.netns = netns
        self.duration = duration
        self.watch = watch
        self.queueCapacity = queueCapacity
    }

    private static let stopToken: UInt64 = 1 << 60
    private static let watchEndedToken: UInt64 = 1 << 56

    public func run(stop: some StopRequest, output: some FaultSessionOutput) throws {
        if let netns { try NetworkNamespace.enter(netns) }
        guard NetworkNamespace.hasNetAdminCapability() else {
            throw NFTablesError.needsCapNetAdmin(call: "faultproxy")
        }
        // Bind the NFLOG group before the rules exist, so the first segment is already seen.
        let observer = try watch.map { try ObservationSession(port: plan.port, group: $0.group, states: $0.states, pcap: $0.pcap,
                                                              pcapSnapshotLength: max(ObservationSession.headerBytes, $0.snaplen ?? 0xFFFF),
                                                              stateNamespaces: $0.stateNamespaces, kernelEvents: true, arrivalRing: true) }
        defer { observer?.close() }
        if let reason = observer?.kernelEventsUnavailable {
            output.notice("no kernel tracepoints (\(reason)); socket states come from sock_diag polls only")
        }
        if let reason = observer?.ringUnavailable {
            output.notice("no packet ring (\(reason)); NFLOG logs every segment, which slows bulk transfers more")
        }
        let nftables = try NFTablesClient()
        // Delays, duplicates and drops of this host's own segments: bind the queue before the
        // rules can send segments to it.
        var livePlan = plan
        livePlan.logsArrivals = observer?.capturesArrivals != true
        let delays = try plan.queuedFaults.isEmpty && plan.drops.isEmpty ? nil : startDelays(&livePlan, nftables, output)
        let table = try livePlan.linearize()
        try nftables.install(table)
        defer { try? nftables.deleteTable(family: table.family, name: table.name) }

        let epoll = try Epoll()
        defer { epoll.close() }
        try epoll.add(stop.descriptor, events: .readable, token: Self.stopToken)
        try delays?.register(with: epoll)
        var relay: Relay?
        if case .relay(let listen, let upstream, _) = scope {
            relay = try Relay(listen: listen, upstream: upstream, epoll: epoll, log: { output.notice($0) })
        }
        defer { relay?.closeAll() }
        output.installed(table, scope: scope)

        // The watch: on this thread, or on one of its own that waits for spare CPU.
        let feed = observer.map { WatchFeed(observer: $0, output: output, states: watch?.states == true) }
        var yielding: YieldingWatch?
        if let feed, yieldsToTraffic(observer: feed.observer, relay: relay) {
            let thread = try YieldingWatch(feed)
            try epoll.add(thread.ended.descriptor, events: .readable, token: Self.watchEndedToken)
            yielding = thread
        } else {
            try feed?.register(with: epoll)
        }
        do {
            try loop(epoll, stop, yielding == nil ? feed : nil, delays, relay)
        } catch {
            try? yielding?.finish()
            throw error
        }
        try yielding?.finish()
        // What is still held goes on now, while the table (and its release chain) still logs it.
        delays?.releaseAll()
        // The kernel's own count of what it logged, then every record of it that can still come.
        let counters = try nftables.ruleCounters(family: table.family, table: table.name)
        var capture: TimelineCapture?
        if let observer {
            let (segments, kernelEvents, completeness) = try observer.finish(counters: counters)
            output.segments(segments)
            output.kernel(kernelEvents)
            capture = completeness
        }
        let delayReport = delays.flatMap { plan.queuedFaults.isEmpty ? nil : DelayReport(engine: $0, counters: counters, plan: livePlan) }
        try output.finished(FaultSessionEnding(watch: observer, capture: capture, drops: DropReport(counters: counters, plan: plan),
                                               delays: delayReport))
    }

    private func loop(_ epoll: Epoll, _ stop: some StopRequest, _ feed: WatchFeed?, _ delays: DelayEngine?,
                      _ relay: Relay?) throws {
        let deadline = duration.map { MonotonicClock.now() + UInt64($0.totalNanoseconds) }
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let now = MonotonicClock.now()
                if now >= deadline { return }
                timeout = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            }
            if let poll = feed?.pollMilliseconds { timeout = timeout < 0 ? poll : min(timeout, poll) }
            // The queue first: a delay's hold is timed from when it reads the segment, so the
            // timeline line the same segment logged must not come before it.
            let ready = try epoll.wait(timeoutMilliseconds: timeout)
            let queueFirst = ready.filter { delays?.handles($0.0) == true } + ready.filter { delays?.handles($0.0) != true }
            for (token, events) in queueFirst {
                if token == Self.stopToken {
                    if stop.consume() { return }
                } else if token == Self.watchEndedToken {
                    return
                } else if let feed, try feed.handle(token) {
                    continue
                } else if let delays, delays.handles(token) {
                    try delays.handle(token)
                } else if let relay, relay.handles(token) {
                    relay.handle(token, events)
                }
            }
            try feed?.poll()
        }
    }

    /// On a busy machine every cycle the watch spends parsing and printing is one the traffic it
    /// watches does not get (iperf3 keeps both CPUs of a two-core machine busy). So the watch
    /// may run on a thread of its own at SCHED_IDLE: it falls behind while the CPUs are busy and
    /// catches up when they are not, the kernel holding the ring's frames and NFLOG's records
    /// meanwhile (their loss, if a buffer fills, is counted as ever). This thread keeps answering the queue (drops of
    /// this host's own segments) on time. Not with delays or duplicates, whose release lines the
    /// timeline orders after their holds, nor with a relay.
    private func yieldsToTraffic(observer: ObservationSession, relay: Relay?) -> Bool {
        guard let watch, watch.yieldCPU, observer.copyRange <= Watch.largestYieldingCopy else { return false }
        return plan.queuedFaults.isEmpty && relay == nil
    }

    /// Binds the queue and picks the queue statement this kernel has; says which when delays or
    /// duplicates use it (drops only queue this host's own segments, silently).
    private func startDelays(_ plan: inout FaultPlan, _ nftables: NFTablesClient, _ output: some FaultSessionOutput) throws -> DelayEngine {
        plan.nativeQueue = try nftables.supportsNativeQueue()
        let engine = try DelayEngine(plan: plan, queueCapacity: queueCapacity, log: { output.notice($0) })
        plan.queueNumber = engine.queueNumber
        guard !plan.queuedFaults.isEmpty else { return engine }
        output.notice(plan.nativeQueue
            ? "queueing delayed/duplicated segments to NFQUEUE \(plan.queueNumber) with the native nft queue statement"
            : "queueing delayed/duplicated segments to NFQUEUE \(plan.queueNumber) with the x_tables NFQUEUE target (nft_compat; this kernel has no native nft queue)")
        return engine
    }
}
