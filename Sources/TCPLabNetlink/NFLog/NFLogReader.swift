import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Listens to one NFLOG group in the network namespace of the thread that creates it, and
/// yields each logged packet with the kernel's timestamp.
///
/// Only one listener per group per namespace: a second reader (or `tcpdump -i nflog:N`)
/// fails to bind with EPERM. By default the reader asks for whole packets and a queue threshold
/// of 1, so the kernel sends every packet at once. `Batching.bulk` lets the kernel fill its
/// 128 KiB batch buffer (about 550 header-only records) before it sends a datagram, flushed
/// after 10 ms at the latest: what keeps up with a bulk transfer (~60k segments/s each way on
/// loopback). Full batches matter twice: each batch is one allocation in the kernel's logging
/// path, and the socket's receive buffer is charged for the whole 128 KiB however few records
/// it holds. Not thread-safe: use it from one thread at a time.
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
    ///   - batching: how the kernel groups logged packets into datagrams.
    public init(group: UInt16, receiveBufferBytes: Int = 8 << 20, copyRange: UInt32 = 0xFFFF,
                batching: Batching = .immediate) throws(SystemCallError) {
        self.group = group
        subscription = try NfnetlinkSubscription(subject: "nflog group \(group)", receiveBufferBytes: receiveBufferBytes,
                                                 parse: NFLogMessage.parse(datagram:))
        try subscription.configure(NFLogMessage.command(.bind, group: group, sequence: socket.reserveSequence()), "NFULNL_CFG_CMD_BIND")
        try subscription.configure(NFLogMessage.mode(.packet, range: copyRange, group: group, sequence: socket.reserveSequence()), "NFULA_CFG_MODE")
        try subscription.configure(NFLogMessage.queueThreshold(batching.packets, group: group, sequence: socket.reserveSequence()), "NFULA_CFG_QTHRESH")
        if batching.packets > 1 {
            try subscription.configure(NFLogMessage.batchBufferSize(batching.bufferBytes, group: group, sequence: socket.reserveSequence()), "NFULA_CFG_NLBUFSIZ")
            try subscription.configure(NFLogMessage.flushTimeout(centiseconds: batching.flushCentiseconds, group: group, sequence: socket.reserveSequence()),
                                       "NFULA_CFG_TIMEOUT")
        }
    }

    /// How the kernel groups logged packets (the log rules leave the threshold to the group).
    public struct Batching: Sendable, Equatable {
        /// NFULA_CFG_QTHRESH: packets per datagram.
        public var packets: UInt32
        /// NFULA_CFG_NLBUFSIZ: the kernel's batch buffer.
        public var bufferBytes: UInt32
        /// NFULA_CFG_TIMEOUT: a partly filled batch goes out after this long (1/100 s).
        public var flushCentiseconds: UInt32

        public static let immediate = Batching(packets: 1, bufferBytes: 4096, flushCentiseconds: 100)
        /// The threshold is only a ceiling: the buffer fills first.
        public static let bulk = Batching(packets: 4096, bufferBytes: 128 << 10, flushCentiseconds: 1)
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
