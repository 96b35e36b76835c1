import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// What an NFLOG reader and an NFQUEUE reader share: one nfnetlink socket bound to a group or
/// queue, its receive buffer, configuration requests answered by an ACK, and datagrams split into
/// packets — with the kernel's ENOBUFS (packets lost before we read them) and unparsable
/// datagrams counted rather than fatal. Not thread-safe: use it from one thread.
final class NfnetlinkSubscription<Packet: Sendable & Equatable> {
    typealias Parser = ([UInt8]) throws(WireFormatError) -> [NfnetlinkItem<Packet>]

    let socket: NetlinkSocket
    /// "nflog group 7", for errors.
    let subject: String
    private(set) var overflowCount = 0
    private(set) var malformedCount = 0
    /// Non-zero statuses for requests nobody waits for (NFQUEUE verdicts), by errno.
    private(set) var unexpectedStatuses: [Int32: Int] = [:]
    /// The receive buffer the kernel granted (SO_RCVBUF reads back twice the request).
    let receiveBufferBytes: Int
    /// Packets that arrived while a configuration request waited for its ACK.
    var pending: [Packet] = []

    private let parse: Parser
    private var buffer: [UInt8]

    init(subject: String, receiveBufferBytes: Int, parse: @escaping Parser) throws(SystemCallError) {
        self.subject = subject
        self.parse = parse
        socket = try NetlinkSocket(.netfilter)
        buffer = [UInt8](repeating: 0, count: max(NetlinkSocket.recommendedBufferSize, 256 << 10))
        self.receiveBufferBytes = try socket.growReceiveBuffer(to: receiveBufferBytes)
    }

    /// Sends a configuration request and waits for its ACK; the kernel's errno becomes the error.
    func configure(_ request: [UInt8], _ what: String) throws(SystemCallError) {
        let sequence = request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) }
        try socket.send(bytes: request)
        // Bounded: the kernel answers a request on the same socket at once.
        for _ in 0..<64 {
            guard try socket.waitUntilReadable(timeoutMilliseconds: 2_000), let result = try receiveOnce(expecting: sequence) else { break }
            pending += result.packets
            if let code = result.status {
                if code == 0 { return }
                throw SystemCallError(Errno(rawValue: code), call: what, subject: subject)
            }
        }
        throw SystemCallError(.timedOut, call: what, subject: "\(subject): no answer from the kernel")
    }

    /// One datagram's packets and the status answering `sequence`, or nil when a non-blocking
    /// socket has nothing waiting.
    func receiveOnce(expecting sequence: UInt32?) throws(SystemCallError) -> (packets: [Packet], status: Int32?)? {
        let count: Int
        do throws(SystemCallError) {
            count = try socket.receive(into: &buffer)
        } catch {
            switch error.errno {
            case .noBufferSpace:
                overflowCount += 1
                return ([], nil)
            case .resourceTemporarilyUnavailable:
                return nil
            default:
                throw error
            }
        }
        var packets: [Packet] = []
        var status: Int32?
        do {
            for item in try parse(Array(buffer[0..<count])) {
                switch item {
                case .packet(let packet): packets.append(packet)
                case .status(let seq, let code) where seq == sequence: status = code
                case .status(_, let code) where code != 0: unexpectedStatuses[code, default: 0] += 1
                case .status, .other: break
                }
            }
        } catch {
            malformedCount += 1
        }
        return (packets, status)
    }

    /// O_NONBLOCK, for readers driven by epoll.
    func setNonBlocking() throws(SystemCallError) {
        let descriptor = socket.fileDescriptor.rawValue
        let flags = try retryingEINTR("fcntl(F_GETFL)", subject: subject) { fcntl(descriptor, F_GETFL) }
        _ = try retryingEINTR("fcntl(F_SETFL)", subject: subject) { fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) }
    }
}
