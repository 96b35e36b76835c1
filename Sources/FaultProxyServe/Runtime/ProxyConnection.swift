import Foundation
import Glibc
import Synchronization
import TCPLabSystem

/// One client's connection through a proxy: the client socket, the upstream socket and the two
/// pumps (upstream = client → server, downstream = server → client), each on its own thread.
/// The last pump to end closes both sockets; a reset_peer ending sets SO_LINGER 0 first, so
/// both peers get an RST.
final class ProxyConnection: Sendable {
    let client: Socket
    let board: ToxicBoard
    let counters: ProxyCounters
    private let upstreamAddress: String
    private let wakes: (upstream: WakeSignal, downstream: WakeSignal)
    private let state = Mutex<State>(State())
    private let onClose: @Sendable (ProxyConnection) -> Void

    private struct State {
        var upstream: Socket?
        var terminated = false
        var reset = false
        var pumpsEnded = 0
        var pumps: [Pump] = []
    }

    init?(client: Socket, upstream: String, board: ToxicBoard, counters: ProxyCounters,
          onClose: @escaping @Sendable (ProxyConnection) -> Void) {
        guard let up = WakeSignal.make() else { return nil }
        guard let down = WakeSignal.make() else { up.close(); return nil }
        self.client = client
        self.upstreamAddress = upstream
        self.board = board
        self.counters = counters
        self.wakes = (up, down)
        self.onClose = onClose
    }

    var isTerminated: Bool { state.withLock { $0.terminated } }

    /// Connects upstream and runs the pumps; returns at once (the work is on new threads).
    func start() {
        let thread = Thread { [self] in
            guard let upstream = connectUpstream() else {
                counters.upstreamFailures.add(1, ordering: .relaxed)
                return finish()
            }
            try? client.setNoDelay(true)
            try? upstream.setNoDelay(true)
            let toServer = Pump(stream: .upstream, source: client, destination: upstream, wake: wakes.upstream, connection: self)
            let toClient = Pump(stream: .downstream, source: upstream, destination: client, wake: wakes.downstream, connection: self)
            state.withLock { $0.pumps = [toServer, toClient] }
            Thread { toClient.run() }.start()
            toServer.run()
        }
        thread.start()
    }

    /// Ends the connection now: every pump stops at its next turn, then the sockets close.
    func terminate(reset: Bool) {
        let first = state.withLock { current -> Bool in
            defer { current.terminated = true; current.reset = current.reset || reset }
            return !current.terminated
        }
        if first || reset {
            wakes.upstream.signal()
            wakes.downstream.signal()
        }
    }

    /// Wakes both pumps (a toxic changed).
    func poke() {
        wakes.upstream.signal()
        wakes.downstream.signal()
    }

    func pumpEnded(_ pump: Pump, _ outcome: Pump.Outcome) {
        switch outcome {
        case .finished: break
        case .failed, .terminated: terminate(reset: false)
        case .ending(let ending): terminate(reset: ending == .reset)
        }
        let last = state.withLock { current -> Bool in
            current.pumpsEnded += 1
            return current.pumpsEnded == 2
        }
        if last { finish() }
    }

    private func finish() {
        let (upstream, reset) = state.withLock { ($0.upstream, $0.reset) }
        if reset {
            try? client.setLingerReset()
            try? upstream?.setLingerReset()
        }
        client.close()
        upstream?.close()
        wakes.upstream.close()
        wakes.downstream.close()
        state.withLock { $0.pumps = [] }
        onClose(self)
    }

    /// A non-blocking connect that gives up when the connection is terminated (proxy disabled).
    private func connectUpstream() -> Socket? {
        guard let address = try? HostResolver.resolve(upstreamAddress),
              let socket = try? Socket.tcp(address.family, nonBlocking: true) else { return nil }
        state.withLock { $0.upstream = socket }
        do {
            try socket.connect(to: address)
            return socket
        } catch where error.errno == .nowInProgress || error.errno == .interrupted {
            while !isTerminated {
                var fds = [pollfd(fd: socket.rawValue, events: Int16(POLLOUT), revents: 0),
                           pollfd(fd: wakes.upstream.descriptor, events: Int16(POLLIN), revents: 0)]
                Poll.wait(&fds, timeoutNanoseconds: nil)
                if fds[0].revents != 0 { return (try? socket.pendingError()) == .some(nil) ? socket : nil }
                wakes.upstream.drain()
            }
            return nil
        } catch {
            return nil
        }
    }
}

/// "host:port" → a socket address, resolving names (toxiproxy's upstreams are often names).
enum HostResolver {
    static func resolve(_ text: String) throws -> SocketAddress {
        if let literal = try? SocketAddress(parsing: text) { return literal }
        guard let colon = text.lastIndex(of: ":") else { throw SocketAddressError("missing port in address \(text)") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = try SocketAddress.parsePort(String(text[text.index(after: colon)...]))
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host.isEmpty ? "localhost" : host, nil, &hints, &result) == 0, let first = result else {
            throw SocketAddressError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        let resolved = SocketAddress(storage: storage)
        return try SocketAddress(host: resolved.host, port: port)
    }
}
