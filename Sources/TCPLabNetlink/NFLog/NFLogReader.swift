import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Listens to one NFLOG group in the network namespace of the thread that creates it, and
/// yields each logged packet with the kernel's timestamp.
///
/// Only one listener per group per namespace: a second reader (or `tcpdump -i nflog:N`)
/// fails to bind with EPERM. The reader asks for whole packets and a queue threshold of 1, so the
/// kernel sends every packet at once instead of batching up to 100 packets or 1 s.
/// Not thread-safe: use it from one thread at a time.
public final class NFLogReader {
    public let group: UInt16
    /// How often the kernel reported that the socket's receive buffer overflowed (ENOBUFS):
    /// packets were logged but lost before we read them.
    public var overflowCount: Int { subscription.overflowCount }
    /// Messages that could not be parsed and were skipped.
    public var malformedCount: Int { subscription.malformedCount }
    /// The receive buffer the kernel granted (SO_RCVBUF reads back twice the request).
    public var receiveBufferBytes: Int { subscription.receiveBufferBytes }

    private let subscription: NfnetlinkSubscription<NFLogRecord>
    private var socket: NetlinkSocket { subscription.socket }

    /// Binds `group` in the calling thread's network namespace.
    /// - Parameters:
    ///   - receiveBufferBytes: asked with SO_RCVBUFFORCE (needs CAP_NET_ADMIN), else SO_RCVBUF,
    ///     so a burst of segments is not lost while the reader is busy.
    ///   - copyRange: bytes of each packet to copy (0xFFFF: whole packets).
    public init(group: UInt16, receiveBufferBytes: Int = 8 << 20, copyRange: UInt32 = 0xFFFF) throws(SystemCallError) {
        self.group = group
        subscription = try NfnetlinkSubscription(subject: "nflog group \(group)", receiveBufferBytes: receiveBufferBytes,
                                                 parse: NFLogMessage.parse(datagram:))
        try subscription.configure(NFLogMessage.command(.bind, group: group, sequence: socket.reserveSequence()), "NFULNL_CFG_CMD_BIND")
        try subscription.configure(NFLogMessage.mode(.packet, range: copyRange, group: group, sequence: socket.reserveSequence()), "NFULA_CFG_MODE")
        try subscription.configure(NFLogMessage.queueThreshold(1, group: group, sequence: socket.reserveSequence()), "NFULA_CFG_QTHRESH")
    }

    /// The descriptor, for callers that multiplex with epoll.
    public var fileDescriptor: FileDescriptor { socket.fileDescriptor }

    /// Waits up to `timeout` for logged packets and returns those of one datagram (empty on timeout
    /// or after a buffer overflow, which is counted in `overflowCount`).
    public func read(timeout: Duration) throws(SystemCallError) -> [NFLogRecord] {
        if !subscription.pending.isEmpty {
            defer { subscription.pending.removeAll() }
            return subscription.pending
        }
        let milliseconds = Int32(clamping: max(0, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        guard try socket.waitUntilReadable(timeoutMilliseconds: milliseconds) else { return [] }
        return try subscription.receiveOnce(expecting: nil)?.packets ?? []
    }

    /// Reads until `deadline` or until `stop` returns true, handing each record to `body`.
    /// `stop` is checked at least every `pollInterval`.
    public func read(
        until deadline: ContinuousClock.Instant, pollInterval: Duration = .milliseconds(10),
        stop: () -> Bool = { false }, _ body: (NFLogRecord) -> Void
    ) throws(SystemCallError) {
        while !stop() {
            let now = ContinuousClock.now
            if now >= deadline { return }
            for record in try read(timeout: min(pollInterval, deadline - now)) { body(record) }
        }
    }
}
