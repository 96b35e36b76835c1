import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Lists TCP sockets through NETLINK_SOCK_DIAG, in the network namespace of the thread that
/// created it (the socket stays there, whichever thread uses it later). Not thread-safe.
public final class SockDiagSocket {
    private let socket: NetlinkSocket
    private var buffer: [UInt8]

    public init() throws(SystemCallError) {
        socket = try NetlinkSocket(.sockDiag)
        buffer = [UInt8](repeating: 0, count: max(NetlinkSocket.recommendedBufferSize, 64 << 10))
    }

    /// Every TCP socket (IPv4 and IPv6, all states), optionally only those with `port` at
    /// either end.
    public func tcpSockets(port: UInt16? = nil) throws(SystemCallError) -> [TCPSocketDiagnostic] {
        var sockets: [TCPSocketDiagnostic] = []
        for family: UInt8 in [2, 10] {
            sockets += try dump(family: family)
        }
        guard let port else { return sockets }
        return sockets.filter { $0.local.port == port || $0.remote.port == port }
    }

    private func dump(family: UInt8) throws(SystemCallError) -> [TCPSocketDiagnostic] {
        let sequence = socket.reserveSequence()
        let request = SockDiagMessage.dumpRequest(family: family, sequence: sequence)
        try socket.send(bytes: request)
        var sockets: [TCPSocketDiagnostic] = []
        // Bounded: each datagram holds many sockets; 100k datagrams is far beyond any lab.
        for _ in 0..<100_000 {
            let count = try socket.receive(into: &buffer)
            let items: [SockDiagMessage.Item]
            do {
                items = try SockDiagMessage.parse(datagram: Array(buffer[0..<count]))
            } catch {
                throw SystemCallError(.badMessage, call: "sock_diag dump", subject: "\(error)")
            }
            for item in items {
                switch item {
                case .socket(let diagnostic): sockets.append(diagnostic)
                case .done: return sockets
                case .error(let code) where code != 0:
                    throw SystemCallError(Errno(rawValue: code), call: "SOCK_DIAG_BY_FAMILY", subject: family == 2 ? "AF_INET" : "AF_INET6")
                case .error, .other: break
                }
            }
        }
        throw SystemCallError(.badMessage, call: "SOCK_DIAG_BY_FAMILY", subject: "dump never ended")
    }
}
