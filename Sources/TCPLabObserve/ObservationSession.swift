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
    private let reader: NFLogReader
    private let watcher: SocketStateWatcher?
    private var builder: TimelineBuilder
    private var pcap: PcapWriter?
    public private(set) var malformedSegments = 0

    /// - Parameters:
    ///   - group: the NFLOG group faultproxy's rules log to.
    ///   - states: also follow the sockets' states and timers through sock_diag.
    ///   - stateNamespaces: and those of these namespaces too (the other end's host).
    ///   - pcap: keep every segment for a pcap file.
    public init(port: UInt16, group: UInt16, states: Bool, pcap: Bool, stateNamespaces: [NamespaceReference] = []) throws {
        self.port = port
        reader = try NFLogReader(group: group)
        watcher = states ? try SocketStateWatcher(port: port, alsoIn: stateNamespaces) : nil
        builder = TimelineBuilder(serverPorts: [port])
        self.pcap = pcap ? PcapWriter() : nil
    }

    /// The NFLOG socket, to wait on with epoll.
    public var logDescriptor: FileDescriptor { reader.fileDescriptor }

    /// Segments the kernel could not hand over because the reader fell behind (ENOBUFS).
    public var lostSegments: Int { reader.overflowCount }

    public var events: [TimelineEvent] { builder.events }
    public var transitions: [SocketTransition] { watcher?.transitions ?? [] }

    /// Reads what the NFLOG socket holds now and returns the new timeline events.
    public func drainLog() throws(SystemCallError) -> [TimelineEvent] {
        var fresh: [TimelineEvent] = []
        // Bounded: at most a few hundred datagrams per call, the rest on the next wakeup.
        for _ in 0..<256 {
            let records = try reader.read(timeout: .zero)
            if records.isEmpty { break }
            let readAt = WallClock.nowNanoseconds()
            for record in records {
                guard let segment = try? CapturedSegment(record: record, readAt: readAt) else {
                    malformedSegments += 1
                    continue
                }
                // A held segment goes into the pcap once, when it was released: stamped, like
                // every other record, when it went on to the receiver's IP layer (prerouting).
                if segment.fate != .delayed {
                    pcap?.append(packet: segment.packet, timestampMicroseconds: segment.timestampMicroseconds)
                }
                if let event = builder.add(segment) { fresh.append(event) }
            }
        }
        return fresh
    }

    /// One sock_diag poll: the transitions since the last one.
    public func pollStates() throws(SystemCallError) -> [SocketTransition] {
        try watcher?.poll() ?? []
    }

    /// The whole ladder so far.
    public func ladder(colour: Bool) -> String {
        LadderView(colour: colour).render(events: builder.events, transitions: transitions)
    }

    /// Writes the pcap collected so far.
    public func writePcap(to path: String) throws {
        try pcap?.write(toFile: path)
    }
}
