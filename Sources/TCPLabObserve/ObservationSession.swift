import SystemPackage
import TCPLabFault
import TCPLabNetlink
import TCPLabSystem

/// Everything one watch collects, in the namespace of the thread that makes it: the segments an
/// NFLOG group receives (with the kernel's timestamps and faultproxy's verdicts), with
/// `arrivalRing` also those a packet ring sees arrive, the timeline built from them, the socket
/// state transitions on the port, and optionally a pcap of it all.
/// Single-threaded: its owner multiplexes `logDescriptor` and `ringDescriptor` in its own epoll
/// loop, calls `pollStates()` at least every `stateInterval`, and `drainSettled()` every few ms
/// while `hasUnsettledSegments`.
public final class ObservationSession {
    public let port: UInt16
    public let stateInterval: Duration = .milliseconds(5)
    /// Enough for an IPv4 header with options (60) or IPv6's (40) and a TCP header with options (60).
    public static let headerBytes: UInt32 = 128
    /// The most records one `drainLog` call reads.
    static let recordsPerDrain: UInt64 = 4096
    /// Bytes of each packet the kernel copies into its record.
    public let copyRange: UInt32
    private let reader: NFLogReader
    /// Every segment that arrives (nil: NFLOG logs those too). `ringUnavailable` says why not.
    private let ring: PacketRing?
    public let ringUnavailable: String?
    private var merge = CaptureMerge()
    private var backlog = ArrivalBacklog()
    private var lastBurstBlock: UInt64 = 0
    /// Retired ring blocks a burst left where the kernel put them (`ringHeld`).
    private var heldBlocks = 0
    /// This burst has filled half the ring: the rest of it is copied aside as it comes.
    private var longBurst = false
    /// A burst's backlog waits this long after its last full block for a block by timer.
    static let burstQuietNanoseconds: UInt64 = 200_000_000
    /// The most a burst's frames wait unparsed: 64 MiB, ~400k header-only frames.
    static let backlogLimitBytes = 64 << 20
    /// How far each source is known complete (µs since the epoch): the merge's watermark.
    private var ringCompleteMicroseconds: Int64 = 0
    private var logCompleteMicroseconds: Int64 = 0
    /// A block goes to the reader full or this long after its first frame. Long enough that at
    /// bulk speed (up to ~250k frames/s, ~50 MB/s of header-only frames) a block fills first:
    /// then the ring holds its whole 32 MiB (~160k frames) for a reader that leaves a burst in
    /// it (`ringHeld`) or is starved (at SCHED_IDLE while a transfer keeps both CPUs busy).
    static let ringRetireMilliseconds: UInt32 = 32
    /// 256 KiB blocks for header-only frames (~1,300 each, 128 of them: 4 s of a slow stream at
    /// the retire timeout), 1 MiB ones for whole packets (a block must hold one).
    static func ringBlockBytes(copyRange: UInt32) -> Int { copyRange <= 1024 ? 256 << 10 : 1 << 20 }
    /// A header-only frame in the ring, about: the kernel's 96 bytes of header and the snapshot.
    public static let ringFrameBytes = 200
    /// The packet ring's size: ~160k header-only frames, about 4 GiB of loopback bulk transfer.
    public static let ringBytes = 32 << 20
    /// How long after its timestamp any segment has reached the reader: the ring's retire timer
    /// runs every 32 ms and closes a block that waited a whole period (so up to 64 ms), an NFLOG
    /// batch flushes after 10 ms; ticks and scheduling on top.
    public static let settleMicroseconds: Int64 = 90_000
    private let watcher: SocketStateWatcher?
    /// The run's tracepoints (nil where tracefs cannot be used: `kernelEventsUnavailable` says why).
    private let tracer: TraceInstance?
    public let kernelEventsUnavailable: String?
    public private(set) var kernelEvents: [KernelEvent] = []
    private var builder: TimelineBuilder
    private var pcap: PcapWriter?
    /// Each NFLOG prefix read once: a run's rules have a handful.
    private var tags: [String: FaultTag] = [:]
    public private(set) var malformedSegments = 0

    /// - Parameters:
    ///   - group: the NFLOG group faultproxy's rules log to.
    ///   - states: also follow the sockets' states and timers through sock_diag.
    ///   - stateNamespaces: and those of these namespaces too (the other end's host).
    ///   - pcap: keep every segment for a pcap file.
    /// - `pcapSnapshotLength`: with a pcap, the bytes of each packet kept (whole packets by
    ///   default); without one, only the headers are copied (the timeline needs no payload).
    /// - `kernelEvents`: also record the kernel's TCP tracepoints in a private trace instance.
    /// - `arrivalRing`: take the segments that arrive (at any interface) from an AF_PACKET ring,
    ///   so the rules need only log faults and this host's own segments (`FaultPlan.logsArrivals`
    ///   false). Where the ring cannot be made (no CAP_NET_RAW), `ringUnavailable` says why and
    ///   NFLOG must log every segment.
    public init(port: UInt16, group: UInt16, states: Bool, pcap: Bool, pcapSnapshotLength: UInt32 = 0xFFFF,
                stateNamespaces: [NamespaceReference] = [], kernelEvents: Bool = false, arrivalRing: Bool = false) throws {
        self.port = port
        // Batched and headers-only (unless a pcap wants more): what keeps up with bulk traffic.
        copyRange = pcap ? pcapSnapshotLength : Self.headerBytes
        reader = try NFLogReader(group: group, receiveBufferBytes: 32 << 20, copyRange: copyRange, batching: .bulk)
        var ringFailure: String?
        do {
            let blockBytes = Self.ringBlockBytes(copyRange: copyRange)
            ring = arrivalRing ? try PacketRing(port: port, snapshotLength: copyRange, blockBytes: blockBytes, blocks: Self.ringBytes / blockBytes,
                                                 retireMilliseconds: Self.ringRetireMilliseconds) : nil
        } catch {
            ring = nil
            ringFailure = error.description
        }
        ringUnavailable = ringFailure
        watcher = states ? try SocketStateWatcher(port: port, alsoIn: stateNamespaces) : nil
        builder = TimelineBuilder(serverPorts: [port])
        self.pcap = pcap ? PcapWriter() : nil
        var unavailable: String?
        do {
            tracer = kernelEvents ? try TraceInstance(port: port) : nil
        } catch {
            tracer = nil
            unavailable = error.description
        }
        kernelEventsUnavailable = unavailable
    }

    /// The NFLOG socket, to wait on with epoll.
    public var logDescriptor: FileDescriptor { reader.fileDescriptor }
    /// The packet ring's socket (readable when a block is ready), to wait on with epoll.
    public var ringDescriptor: FileDescriptor? { ring?.fileDescriptor }
    /// The ring takes the arrivals: the rules need not log those that pass.
    public var capturesArrivals: Bool { ring != nil }

    /// How often the kernel could not hand over segments because the reader fell behind (ENOBUFS
    /// events, not segments: `capture(logged:)` gives the count).
    public var overflowEvents: Int { reader.overflowCount }
    /// NFLOG records received, parsed or not.
    public private(set) var receivedRecords: UInt64 = 0

    /// The end of a run, given its table's rule counters (what the kernel logged): the records
    /// and ring frames still to come, the last tracepoints, and how complete the timeline is.
    public func finish(counters: [NFTRuleCounter]) throws(SystemCallError)
        -> (segments: [TimelineEvent], kernelEvents: [KernelEvent], capture: TimelineCapture) {
        let logged = FaultPlan.loggedSegments(counters)
        var segments = try drainLog(expecting: logged)
        var capture = TimelineCapture(logged: logged, received: receivedRecords)
        if let ring {
            segments += try drainRingToEnd(ring)
            segments += hand(merge.release(before: .max))
            // A fault's record and its frame are one segment: counted once on both sides.
            // A fault's record whose frame the full ring dropped is that segment, not another.
            let (offered, dropped) = try ring.kernelCounts()
            let counted = merge.pairs + min(merge.unpairedVerdicts, dropped)
            capture = TimelineCapture(logged: logged + offered - counted, received: receivedRecords + ring.framesRead - merge.pairs)
        }
        capture.traceClockDriftMicroseconds = tracer.map { TraceClockMapping.now().offsetMicroseconds - $0.clock.offsetMicroseconds }
        return (segments, drainTrace(), capture)
    }

    public var events: [TimelineEvent] { builder.events }
    public var transitions: [SocketTransition] { watcher?.transitions ?? [] }

    /// The last records of a run: reads until `logged` records have come (the kernel flushes a
    /// partly filled batch within 10 ms) or `timeout` passes without one.
    func drainLog(expecting logged: UInt64, timeout: Duration = .milliseconds(200)) throws(SystemCallError) -> [TimelineEvent] {
        var fresh = try drainLog()
        var deadline = ContinuousClock.now + timeout
        while receivedRecords < logged, ContinuousClock.now < deadline {
            let before = receivedRecords
            fresh += try drainLog(wait: .milliseconds(10))
            // A backlog still being read is not a kernel that stopped sending: time from the last record.
            if receivedRecords > before { deadline = ContinuousClock.now + timeout }
        }
        return fresh
    }

    /// Reads what the NFLOG socket holds now (waiting up to `wait` for the first datagram) and
    /// returns the new timeline events.
    public func drainLog(wait: Duration = .zero) throws(SystemCallError) -> [TimelineEvent] {
        let receivedBefore = receivedRecords
        var fresh: [TimelineEvent] = []
        var drained = false
        var newest: Int64 = 0
        // Bounded: a few thousand records per call (a full batch holds ~550), the rest on the
        // next wakeup, so the owner's loop answers its other descriptors in between.
        var index = 0
        while index < 256, receivedRecords - receivedBefore < Self.recordsPerDrain {
            let records = try reader.read(timeout: index == 0 ? wait : .zero)
            index += 1
            if records.isEmpty { drained = true; break }
            let readAt = WallClock.nowNanoseconds()
            receivedRecords += UInt64(records.count)
            for record in records {
                let tag = tags[record.prefix] ?? {
                    let tag = FaultTag(recordPrefix: record.prefix)
                    tags[record.prefix] = tag
                    return tag
                }()
                guard let segment = try? CapturedSegment(record: record, readAt: readAt, tag: tag) else {
                    malformedSegments += 1
                    continue
                }
                guard ring != nil else {
                    if let event = hand(segment) { fresh.append(event) }
                    continue
                }
                newest = max(newest, segment.timestampMicroseconds)
                merge.addLogged(segment, kernelStamped: record.timestampMicroseconds != nil)
            }
        }
        guard ring != nil else { return fresh }
        logCompleteMicroseconds = max(logCompleteMicroseconds, drained ? WallClock.nowNanoseconds() / 1000 - Self.settleMicroseconds
            : newest - Self.settleMicroseconds)
        return releaseSettled()
    }

    /// Reads the packet ring's ready blocks and returns the new timeline events. A burst's first
    /// half of the ring (16 MiB, ~2 GiB of bulk transfer) stays where the kernel put it
    /// (`ringHeld`: the owner stops waiting on the ring's descriptor and calls `drainSettled()`
    /// instead), so a short burst costs the transfer no copy and no wakeup per block. A longer
    /// one is copied aside (`ArrivalBacklog`) block by block as it comes, which keeps the ring
    /// nearly empty for a reader starved at SCHED_IDLE. The frames are parsed once no heavy
    /// block has come for `burstQuietNanoseconds` (a block is light when the timer closed it a
    /// quarter full or less: at bulk speed a block the timer closes is still nearly full), when
    /// the backlog passes `backlogLimitBytes`, or at the end (`force`). One light block does not
    /// end a burst: eight streams pause that long now and then, and parsing 100k segments then
    /// would compete with the transfer for its caches.
    public func drainRing(force: Bool = false) -> [TimelineEvent] {
        guard let ring else { return [] }
        let fresh = ring.peek(after: heldBlocks)
        heldBlocks += fresh.blocks
        let light = fresh.timedOut == fresh.blocks && fresh.frames * 4 * Self.ringFrameBytes <= fresh.blocks * ring.blockBytes
        let now = MonotonicClock.now()
        if fresh.blocks > 0 && !light { lastBurstBlock = now }
        if inBurst(at: now) && !force {
            if heldBlocks * 2 >= ring.blocks { longBurst = true }
            if longBurst { moveHeldBlocksAside(ring) }
            if backlog.byteCount < Self.backlogLimitBytes { return [] }
        }
        longBurst = false
        moveHeldBlocksAside(ring)
        var newest: Int64 = 0
        backlog.flush { time, bytes in
            guard let segment = try? CapturedSegment(arrival: Array(bytes), timeNanoseconds: time) else {
                malformedSegments += 1
                return
            }
            newest = segment.timestampMicroseconds
            merge.addArrival(segment)
        }
        ringCompleteMicroseconds = ring.hasReadyBlock ? max(ringCompleteMicroseconds, newest)
            : max(ringCompleteMicroseconds, WallClock.nowNanoseconds() / 1000 - Self.settleMicroseconds)
        return releaseSettled()
    }

    /// A heavy block came within `burstQuietNanoseconds` of `now`.
    private func inBurst(at now: UInt64) -> Bool {
        lastBurstBlock != 0 && now - lastBurstBlock <= Self.burstQuietNanoseconds
    }

    /// A burst's blocks are in the ring, unread: `drainSettled()` reads them once it is over.
    public var ringHeld: Bool { heldBlocks > 0 }

    private func moveHeldBlocksAside(_ ring: PacketRing) {
        ring.drain(maxBlocks: heldBlocks) { time, bytes, _ in backlog.append(timeNanoseconds: time, bytes) }
        heldBlocks = 0
    }

    /// The ring's last frames: the kernel retires its open block within two retire periods; read until every
    /// frame it took is read or was dropped, or nothing more comes for `timeout`.
    private func drainRingToEnd(_ ring: PacketRing, timeout: Duration = .milliseconds(200)) throws(SystemCallError) -> [TimelineEvent] {
        var fresh: [TimelineEvent] = []
        var deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let before = ring.framesRead
            fresh += drainRing(force: true)
            let counts = try ring.kernelCounts()
            if ring.framesRead + counts.dropped >= counts.offered { break }
            if ring.framesRead > before { deadline = ContinuousClock.now + timeout }
            _ = try? Poll.wait(ring.fileDescriptor.rawValue, for: .readable, timeoutMilliseconds: 10)
        }
        return fresh
    }

    /// Segments wait in the merge or the burst's backlog: `drainSettled()` will hand them on.
    public var hasUnsettledSegments: Bool { ring != nil && !(merge.isEmpty && backlog.isEmpty && heldBlocks == 0) }

    /// What has settled while neither source had anything new: a source with nothing waiting is
    /// complete up to `settleMicroseconds` ago, and a burst's backlog quiet for
    /// `burstQuietNanoseconds` is parsed. Call it every few ms while `hasUnsettledSegments`.
    public func drainSettled() -> [TimelineEvent] {
        guard let ring else { return [] }
        let now = WallClock.nowNanoseconds() / 1000
        // A held burst, or a backlog whose burst is over: `drainRing` parses once the burst is.
        if heldBlocks > 0 || (!backlog.isEmpty && !ring.hasReadyBlock && !inBurst(at: MonotonicClock.now())) { return drainRing() }
        if backlog.isEmpty, !ring.hasReadyBlock { ringCompleteMicroseconds = max(ringCompleteMicroseconds, now - Self.settleMicroseconds) }
        let logWaiting = (try? Poll.wait(reader.fileDescriptor.rawValue, for: .readable, timeoutMilliseconds: 0))?.contains(.readable) ?? true
        if !logWaiting { logCompleteMicroseconds = max(logCompleteMicroseconds, now - Self.settleMicroseconds) }
        return releaseSettled()
    }

    /// What both sources are complete up to goes on to the timeline.
    private func releaseSettled() -> [TimelineEvent] {
        hand(merge.release(before: min(ringCompleteMicroseconds, logCompleteMicroseconds)))
    }

    /// Segments in their final order: into the pcap and the timeline.
    private func hand(_ segments: [CapturedSegment]) -> [TimelineEvent] {
        segments.compactMap(hand)
    }

    /// One segment in its final order; its event, unless it only updated an earlier one.
    private func hand(_ segment: CapturedSegment) -> TimelineEvent? {
        // A held segment goes into the pcap once, when it was released: stamped when it went on
        // to the receiver's IP layer.
        if segment.fate != .delayed {
            pcap?.append(packet: segment.packet, timestampMicroseconds: segment.timestampMicroseconds,
                         originalLength: PacketParser.ipPacketLength(segment.packet))
        }
        return builder.add(segment)
    }

    /// trace_pipe, to wait on with epoll.
    public var traceDescriptor: FileDescriptor? { tracer?.descriptor }

    /// The tracepoints hit since the last call.
    public func drainTrace() -> [KernelEvent] {
        guard let tracer else { return [] }
        let fresh = tracer.read()
        kernelEvents += fresh
        return fresh
    }

    /// Removes the trace instance (also done when the session goes away).
    public func close() { tracer?.remove() }

    /// One sock_diag poll: the transitions since the last one.
    public func pollStates() throws(SystemCallError) -> [SocketTransition] {
        try watcher?.poll() ?? []
    }

    /// The whole ladder so far.
    public func ladder(colour: Bool) -> String {
        LadderView(colour: colour).render(events: builder.events, transitions: transitions, kernelEvents: kernelEvents.ownedBy(SocketPairs(segments: builder.events, transitions: transitions)))
    }

    /// Writes the pcap collected so far.
    public func writePcap(to path: String) throws {
        try pcap?.write(toFile: path)
    }
}
