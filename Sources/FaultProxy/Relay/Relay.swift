import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// The userspace relay: accept on `listen`, connect to `upstream`, copy both ways. One thread,
/// one level-triggered epoll set; each direction owns a buffer and reads only when it is empty,
/// so a slow reader pushes back on its writer through the kernel's windows, as a real middlebox
/// would. A FIN is passed on as shutdown(SHUT_WR) and a reset as a reset (SO_LINGER {1,0}), so
/// faults on one leg show on the other the way TCP would show them.
final class Relay {
    struct Statistics {
        var accepted = 0
        var upstreamFailures = 0
        var bytes = [0, 0]  // client→upstream, upstream→client
    }

    private enum Side: Int { case client = 0, upstream = 1 }

    private struct Pair {
        let client: Socket
        let upstream: Socket
        var connected = false
        /// Bytes read from side s, waiting to be written to the other side.
        var pending: [[UInt8]] = [[], []]
        /// Side s sent FIN (its read returned 0).
        var finished = [false, false]
        /// We shut down writing towards side s.
        var shutDown = [false, false]

        func socket(_ side: Side) -> Socket { side == .client ? client : upstream }
    }

    let listener: Socket
    let upstream: SocketAddress
    private let epoll: Epoll
    private var pairs: [UInt64: Pair] = [:]
    private var nextPair: UInt64 = 1
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)
    private(set) var statistics = Statistics()
    private let log: (String) -> Void

    static let listenerToken: UInt64 = 0

    init(listen: SocketAddress, upstream: SocketAddress, epoll: Epoll, log: @escaping (String) -> Void) throws(SystemCallError) {
        let listener = try Socket.tcp(listen.family, nonBlocking: true)
        do {
            try listener.setReuseAddress(true)
            if listen.family == .ipv6 { try listener.setIPv6Only() }
            try listener.bind(to: listen)
            try listener.listen(backlog: 1024)
            try epoll.add(listener.descriptor, events: .readable, token: Self.listenerToken)
        } catch {
            listener.close()
            throw error
        }
        self.listener = listener
        self.upstream = upstream
        self.epoll = epoll
        self.log = log
    }

    /// Owns tokens with this bit set; the caller routes those events here.
    static let tokenBit: UInt64 = 1 << 62

    func handles(_ token: UInt64) -> Bool { token == Self.listenerToken || token & Self.tokenBit != 0 }

    func handle(_ token: UInt64, _ events: Epoll.Events) {
        if token == Self.listenerToken {
            acceptAll()
            return
        }
        let id = (token & ~Self.tokenBit) >> 1
        let side: Side = token & 1 == 0 ? .client : .upstream
        guard var pair = pairs[id] else { return }
        if !pair.connected, side == .upstream {
            if let error = try? pair.upstream.pendingError() {
                statistics.upstreamFailures += 1
                log("relay: connect \(upstream): \(SystemCallError(error, call: "connect").description)")
                // The client learns the upstream is gone the way TCP would tell it: a reset.
                try? pair.client.setLingerReset()
                close(id, pair)
                return
            }
            pair.connected = true
        }
        if pair.connected {
            do {
                try pump(&pair, from: side, events)
                try pump(&pair, from: side == .client ? .upstream : .client, [])
            } catch {
                // A reset on one leg becomes a reset on the other.
                let other = side == .client ? pair.upstream : pair.client
                try? other.setLingerReset()
                close(id, pair)
                return
            }
        }
        if pair.finished[0] && pair.finished[1] && pair.pending[0].isEmpty && pair.pending[1].isEmpty {
            close(id, pair)
            return
        }
        pairs[id] = pair
        updateInterest(id, pair)
    }

    func closeAll() {
        for (id, pair) in pairs { close(id, pair) }
        listener.close()
    }

    private func acceptAll() {
        for _ in 0..<256 {
            guard let accepted = try? listener.accept(nonBlocking: true) else { return }
            let (client, _) = accepted
            statistics.accepted += 1
            do {
                let upstreamSocket = try Socket.tcp(upstream.family, nonBlocking: true)
                do {
                    try upstreamSocket.connect(to: upstream)
                } catch where error.errno == .nowInProgress {
                    // Completes later: epoll reports the socket writable.
                } catch {
                    upstreamSocket.close()
                    throw error
                }
                let id = nextPair
                nextPair += 1
                let pair = Pair(client: client, upstream: upstreamSocket)
                pairs[id] = pair
                try epoll.add(client.descriptor, events: [], token: token(id, .client))
                try epoll.add(upstreamSocket.descriptor, events: .writable, token: token(id, .upstream))
            } catch {
                statistics.upstreamFailures += 1
                log("relay: \(error)")
                try? client.setLingerReset()
                client.close()
            }
        }
    }

    private func token(_ id: UInt64, _ side: Side) -> UInt64 { Self.tokenBit | id << 1 | UInt64(side.rawValue) }

    /// Moves bytes from `side` to the other side until either would block.
    private func pump(_ pair: inout Pair, from side: Side, _ events: Epoll.Events) throws(SystemCallError) {
        let source = pair.socket(side)
        let destination = pair.socket(side == .client ? .upstream : .client)
        let index = side.rawValue
        for _ in 0..<64 {
            if !pair.pending[index].isEmpty {
                let pending = pair.pending[index]
                let written = try pending.withUnsafeBytes { raw in
                    Result { () throws(SystemCallError) -> Int? in try destination.write(raw) }
                }.get()
                guard let written else { return }
                pair.pending[index].removeFirst(written)
                statistics.bytes[index] += written
                continue
            }
            if pair.finished[index] {
                if !pair.shutDown[1 - index] {
                    try destination.shutdown(.write)
                    pair.shutDown[1 - index] = true
                }
                return
            }
            let count = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(SystemCallError) -> Int? in try source.read(into: raw) }
            }.get()
            guard let count else { return }
            if count == 0 {
                pair.finished[index] = true
            } else {
                pair.pending[index] = Array(buffer[0..<count])
            }
        }
    }

    private func updateInterest(_ id: UInt64, _ pair: Pair) {
        for side in [Side.client, .upstream] {
            let index = side.rawValue
            var events: Epoll.Events = []
            // Read from this side while its bytes have somewhere to go.
            if pair.connected, !pair.finished[index], pair.pending[index].isEmpty { events.insert(.readable) }
            // Write to this side while the other side's bytes wait for it.
            if !pair.pending[1 - index].isEmpty || (!pair.connected && side == .upstream) { events.insert(.writable) }
            try? epoll.modify(pair.socket(side).descriptor, events: events, token: token(id, side))
        }
    }

    private func close(_ id: UInt64, _ pair: Pair) {
        pairs[id] = nil
        for socket in [pair.client, pair.upstream] {
            try? epoll.remove(socket.descriptor)
            socket.close()
        }
    }
}
