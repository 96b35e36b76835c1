import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Reads one NFQUEUE over a libmnl netlink socket and answers with verdicts, in the network
/// namespace of the thread that creates it. Non-blocking: call `drain()` when epoll says the
/// descriptor is readable, `verdict(...)` whenever a held packet is due.
///
/// The queue is configured fail-open (NFQA_CFG_F_FAIL_OPEN): when `maximumLength` packets
/// already wait for a verdict, or this socket's receive buffer is full, the kernel lets the next
/// packet pass unqueued instead of dropping it. The kernel does not count those; compare the
/// queue rule's counter with `receivedCount`. When the socket closes (exit, SIGKILL) the kernel
/// unbinds the queue and drops what it still held; the rules' bypass flag then lets traffic through.
/// Not thread-safe: use it from one thread.
public final class NFQueueReader {
    public let queue: UInt16
    public let maximumLength: UInt32
    /// Packets received so far.
    public private(set) var receivedCount = 0
    /// Receive-buffer overflows the kernel reported (ENOBUFS): packets it could not deliver
    /// (and, fail-open, let pass).
    public var overflowCount: Int { subscription.overflowCount }
    public var malformedCount: Int { subscription.malformedCount }
    /// Verdicts the kernel refused (an unknown id, most likely), by errno.
    public var verdictErrors: [Int32: Int] { subscription.unexpectedStatuses }
    public var receiveBufferBytes: Int { subscription.receiveBufferBytes }

    private let subscription: NfnetlinkSubscription<NFQueuePacket>
    private var socket: NetlinkSocket { subscription.socket }

    /// Binds `queue`: EPERM when another socket already holds it.
    /// - Parameters:
    ///   - maximumLength: NFQA_CFG_QUEUE_MAXLEN, the most packets held at once.
    ///   - copyRange: bytes of each packet to copy (0xFFFF: whole packets; the duplicate needs them).
    public init(queue: UInt16, maximumLength: UInt32 = 1024, requestedReceiveBuffer: Int = 8 << 20, copyRange: UInt32 = 0xFFFF) throws(SystemCallError) {
        self.queue = queue
        self.maximumLength = maximumLength
        subscription = try NfnetlinkSubscription(subject: "nfqueue \(queue)", receiveBufferBytes: requestedReceiveBuffer,
                                                 parse: NFQueueMessage.parse(datagram:))

        try subscription.configure(NFQueueMessage.command(.bind, queue: queue, sequence: socket.reserveSequence()), "NFQNL_CFG_CMD_BIND")
        try subscription.configure(NFQueueMessage.parameters(.packet, range: copyRange, queue: queue, sequence: socket.reserveSequence()), "NFQA_CFG_PARAMS")
        try subscription.configure(NFQueueMessage.maximumLength(maximumLength, queue: queue, sequence: socket.reserveSequence()), "NFQA_CFG_QUEUE_MAXLEN")
        try subscription.configure(NFQueueMessage.flags(.failOpen, mask: [.failOpen, .gso], queue: queue, sequence: socket.reserveSequence()), "NFQA_CFG_FLAGS")
        try subscription.setNonBlocking()
    }

    /// Binds the first free queue number from `start` on (wrapping, at most `attempts` tries), so
    /// two faultproxy runs in one namespace never share a queue.
    public static func bindingFreeQueue(from start: UInt16, attempts: Int = 32, maximumLength: UInt32 = 1024) throws(SystemCallError) -> NFQueueReader {
        var lastError = SystemCallError(.resourceBusy, call: "NFQNL_CFG_CMD_BIND")
        for offset in 0..<max(1, attempts) {
            let number = start &+ UInt16(truncatingIfNeeded: offset)
            do {
                return try NFQueueReader(queue: number, maximumLength: maximumLength)
            } catch where error.errno == .notPermitted || error.errno == .resourceBusy {
                // EPERM also means "no CAP_NET_ADMIN": tell the two apart by trying a few numbers only.
                lastError = error
            }
        }
        throw lastError
    }

    /// The descriptor, for epoll.
    public var fileDescriptor: FileDescriptor { socket.fileDescriptor }

    /// Every packet that is waiting now (bounded: at most `limit` datagrams per call).
    public func drain(limit: Int = 256) throws(SystemCallError) -> [NFQueuePacket] {
        var packets = subscription.pending
        subscription.pending.removeAll()
        for _ in 0..<limit {
            guard let batch = try subscription.receiveOnce(expecting: nil) else { break }
            packets += batch.packets
        }
        receivedCount += packets.count
        return packets
    }

    /// Answers one packet. `mark`, when given, replaces the packet's `meta mark`.
    public func verdict(_ verdict: NFQueueMessage.Verdict, packetID: UInt32, mark: UInt32? = nil) throws(SystemCallError) {
        let message = NFQueueMessage.verdict(verdict, packetID: packetID, mark: mark, queue: queue, sequence: socket.reserveSequence())
        while true {
            do throws(SystemCallError) {
                try socket.send(bytes: message)
                return
            } catch where error.errno == .resourceTemporarilyUnavailable || error.errno == .noBufferSpace {
                // The kernel's side is momentarily full; a verdict must not be lost, so wait briefly.
                _ = try socket.waitUntilReadable(timeoutMilliseconds: 1)
            }
        }
    }
}
