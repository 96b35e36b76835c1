import Foundation
import Glibc
import Synchronization
import TCPLabSystem

/// A proxy's listening socket and its accept thread. Binding happens in `init`, on the API's
/// request, so "address already in use" is the API's answer; `stop()` returns once the
/// socket is closed, so re-enabling can bind the same port at once.
final class ProxyListener: Sendable {
    let address: SocketAddress
    /// What GET /proxies shows: "127.0.0.1:40123", or "[::]:40123" for an empty listen.
    let displayed: String
    private let socket: Socket
    private let wake: WakeSignal
    private let stopped = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)

    /// Binds `listen` as toxiproxy does: "" is every address (IPv6 and IPv4), port 0 picks one.
    init(listen: String) throws(APIError) {
        let wildcard = listen.isEmpty || listen.hasPrefix(":")
        let requested: SocketAddress
        do {
            if wildcard {
                requested = try SocketAddress(host: "::", port: 0)
            } else {
                requested = try Self.parseListen(listen)
            }
        } catch {
            throw APIError(500, "listen tcp: address \(listen): missing port in address")
        }
        var bindAddress = requested
        if wildcard, let port = UInt16(listen.dropFirst()), port > 0 {
            bindAddress = SocketAddress.withPort(requested, port)
        }
        do throws(SystemCallError) {
            let socket = try Socket.tcp(bindAddress.family, nonBlocking: true)
            do throws(SystemCallError) {
                try socket.setReuseAddress(true)
                try socket.bind(to: bindAddress)
                try socket.listen(backlog: 1024)
                self.socket = socket
                self.address = try socket.localAddress()
            } catch {
                socket.close()
                throw error
            }
        } catch {
            let reason = String(cString: strerror(error.errno.rawValue))
            throw APIError(500, "listen tcp \(listen): \(error.call): \(reason.prefix(1).lowercased() + reason.dropFirst())")
        }
        displayed = wildcard ? "[::]:\(address.port)" : "\(address.family == .ipv6 ? "[\(address.host)]" : address.host):\(address.port)"
        guard let wake = WakeSignal.make() else {
            socket.close()
            throw APIError(500, "eventfd: cannot make a wake-up descriptor")
        }
        self.wake = wake
    }

    /// "host:port" where port 0 is allowed (SocketAddress refuses 0; a listener wants it).
    static func parseListen(_ text: String) throws -> SocketAddress {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw SocketAddressError("missing port in address \(text)")
        }
        let base = try HostResolver.resolve(String(text[..<colon]) + ":1")
        return SocketAddress.withPort(base, port)
    }

    /// Accepts until `stop()`, handing each client to `accepted`.
    func start(accepted: @escaping @Sendable (Socket) -> Void) {
        started.store(true, ordering: .releasing)
        Thread { [self] in
            while !stopped.load(ordering: .acquiring) {
                var fds = [pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0)]
                Poll.wait(&fds, timeoutNanoseconds: nil)
                while !stopped.load(ordering: .acquiring), let (client, _) = try? socket.accept(nonBlocking: true) {
                    accepted(client)
                }
            }
            exited.signal()
        }.start()
    }

    /// Stops accepting and closes the socket (new connects are refused from now on).
    func stop() {
        stopped.store(true, ordering: .releasing)
        wake.signal()
        if started.load(ordering: .acquiring) { exited.wait() }
        socket.close()
        wake.close()
    }
}

extension SocketAddress {
    static func withPort(_ address: SocketAddress, _ port: UInt16) -> SocketAddress {
        // Both hosts are numeric already: this cannot fail.
        (try? SocketAddress(host: address.host, port: port)) ?? address
    }
}
