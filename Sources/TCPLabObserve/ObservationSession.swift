import SystemPackage
import TCPLabFault
import TCPLabNetlink
import TCPLabSystem

/// Everything one watch collects, in the namespace of the thread that makes it: the segments an
/// NFLOG group receives (with the kernel's timestamps and faultproxy's verdicts), the timeline
/// built from them, the socket state transitions on the port, and optionally a pcap of it all.
/// Single-threaded: its owner multiplexes `logDescriptor` in its own epoll loop and calls
/// `pollStates()` at least every `stateInterval`.
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
    public init(port: UInt16, group: UInt16, states: Bool, pcap: Bool, pcapSnapshotLength: UInt32 = 0xFFFF,
                stateNamespaces: [NamespaceReference] = [], kernelEvents: Bool = false) throws {
        self.port = port
        // Batched and headers-only (unless a pcap wants more): what keeps up with bulk traffic.
        copyRange = pcap ? pcapSnapshotLength : Self.headerBytes
        reader = try NFLogReader(group: group, receiveBufferBytes: 32 << 20, copyRange: copyRange, batching: .bulk)
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

    /// How often the kernel could not hand over segments because the reader fell behind (ENOBUFS
    /// events, not segments: `capture(logged:)` gives the count).
    public var overflowEvents: Int { reader.overflowCount }
    /// Records received, parsed or not.
    public private(set) var receivedRecords: UInt64 = 0

    /// The end of a run, given its table's rule counters (what the kernel logged): the records
    /// still to come of that count, the last tracepoints, and how complete the timeline is.
    public func finish(counters: [NFTRuleCounter]) throws(SystemCallError)
        -> (segments: [TimelineEvent], kernelEvents: [KernelEvent], capture: TimelineCapture) {
        let logged = FaultPlan.loggedSegments(counters)
        let segments = try drainLog(expecting: logged)
        let drift = tracer.map { TraceClockMapping.now().offsetMicroseconds - $0.clock.offsetMicroseconds }
        return (segments, drainTrace(), TimelineCapture(logged: logged, received: receivedRecords, traceClockDriftMicroseconds: drift))
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
        // Bounded: a few thousand records per call (a full batch holds ~550), the rest on the
        // next wakeup, so the owner's loop answers its other descriptors in between.
        var index = 0
        while index < 256, receivedRecords - receivedBefore < Self.recordsPerDrain {
            let records = try reader.read(timeout: index == 0 ? wait : .zero)
            index += 1
            if records.isEmpty { break }
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
                // A held segment goes into the pcap once, when it was released: stamped, like
                // every other record, when it went on to the receiver's IP layer (prerouting).
                if segment.fate != .delayed {
                    pcap?.append(packet: segment.packet, timestampMicroseconds: segment.timestampMicroseconds,
                                 originalLength: PacketParser.ipPacketLength(segment.packet))
                }
                if let event = builder.add(segment) { fresh.append(event) }
            }
        }
        return fresh
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
