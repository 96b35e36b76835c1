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
    public private(set) var overflowCount = 0
    /// Messages that could not be parsed and were skipped.
    public private(set) var malformedCount = 0
    /// The receive buffer the kernel granted (SO_RCVBUF reads back twice the request).
    public let receiveBufferBytes: Int

    private let socket: NetlinkSocket
    private var buffer: [UInt8]
    private var pending: [NFLogRecord] = []

    /// Binds `group` in the calling thread's network namespace.
    /// - Parameters:
    ///   - receiveBufferBytes: asked with SO_RCVBUFFORCE (needs CAP_NET_ADMIN), else SO_RCVBUF,
    ///     so a burst of segments is not lost while the reader is busy.
    ///   - copyRange: bytes of each packet to copy (0xFFFF: whole packets).
    public init(group: UInt16, receiveBufferBytes: Int = 8 << 20, copyRange: UInt32 = 0xFFFF) throws(SystemCallError) {
        self.group = group
        socket = try NetlinkSocket(.netfilter)
        buffer = [UInt8](repeating: 0, count: max(NetlinkSocket.recommendedBufferSize, 256 << 10))
        self.receiveBufferBytes = try socket.growReceiveBuffer(to: receiveBufferBytes)

        try configure(NFLogMessage.command(.bind, group: group, sequence: socket.reserveSequence()), "NFULNL_CFG_CMD_BIND")
        try configure(NFLogMessage.mode(.packet, range: copyRange, group: group, sequence: socket.reserveSequence()), "NFULA_CFG_MODE")
        try configure(NFLogMessage.queueThreshold(1, group: group, sequence: socket.reserveSequence()), "NFULA_CFG_QTHRESH")
    }

    /// The descriptor, for callers that multiplex with epoll.
    public var fileDescriptor: FileDescriptor { socket.fileDescriptor }

    /// Waits up to `timeout` for logged packets and returns those of one datagram (empty on timeout
    /// or after a buffer overflow, which is counted in `overflowCount`).
    public func read(timeout: Duration) throws(SystemCallError) -> [NFLogRecord] {
        if !pending.isEmpty {
            defer { pending.removeAll() }
            return pending
        }
        guard try waitReadable(timeout: timeout) else { return [] }
        return try receiveOnce(expecting: nil).records
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

    // MARK: - Internals

    private func configure(_ request: [UInt8], _ what: String) throws(SystemCallError) {
        let sequence = request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) }
        try socket.send(bytes: request)
        // Bounded: the kernel answers a request on the same socket at once.
        for _ in 0..<64 {
            guard try waitReadable(timeout: .seconds(2)) else { break }
            let result = try receiveOnce(expecting: sequence)
            pending += result.records
            if let code = result.status {
                if code == 0 { return }
                throw SystemCallError(Errno(rawValue: code), call: what, subject: "nflog group \(group)")
            }
        }
        throw SystemCallError(.timedOut, call: what, subject: "nflog group \(group): no answer from the kernel")
    }

    private func receiveOnce(expecting sequence: UInt32?) throws(SystemCallError) -> (records: [NFLogRecord], status: Int32?) {
        let count: Int
        do throws(SystemCallError) {
            count = try socket.receive(into: &buffer)
        } catch where error.errno == .noBufferSpace {
            overflowCount += 1
            return ([], nil)
        }
        var records: [NFLogRecord] = []
        var status: Int32?
        do {
            for item in try NFLogMessage.parse(datagram: Array(buffer[0..<count])) {
                switch item {
                case .packet(let record): records.append(record)
                case .status(let seq, let code) where seq == sequence: status = code
                case .status, .other: break
                }
            }
        } catch {
            malformedCount += 1
        }
        return (records, status)
    }

    private func waitReadable(timeout: Duration) throws(SystemCallError) -> Bool {
        var descriptor = pollfd(fd: socket.fileDescriptor.rawValue, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: max(0, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        let ready = try retryingEINTR("poll", subject: "nflog group \(group)") { poll(&descriptor, 1, milliseconds) }
        return ready > 0
    }
}
