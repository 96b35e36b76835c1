import CTCPLabShim
import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// The userspace relay: accept on `listen`, connect to `upstream`, copy both ways. One thread,
/// one level-triggered epoll set. Bytes move with splice(2) through one pipe per direction, so
/// they go socket → pipe → socket as page references and never cross into userspace (the copy
/// a read/write relay pays twice per byte is most of its cost). Each direction reads only while
/// its pipe (1 MiB) has room, so a slow reader pushes back on its writer through the kernel's
/// windows, as a real middlebox would. A FIN is passed on as shutdown(SHUT_WR) and a reset as a reset
/// (SO_LINGER {1,0}), so faults on one leg show on the other the way TCP would show them.
final class Relay {
    struct Statistics {
        var accepted = 0
        var upstreamFailures = 0
        var bytes = [0, 0]  // client→upstream, upstream→client
    }

    private enum Side: Int { case client = 0, upstream = 1 }

    /// One direction's buffer: a pipe, both ends closed with their owner.
    private struct Channel: ~Copyable {
        let readEnd: Int32
        let writeEnd: Int32

        init() throws(SystemCallError) {
            var ends: [Int32] = [-1, -1]
            _ = try retryingEINTR("pipe2") { tcplab_pipe_nonblocking(&ends) }
            // Larger than the default 64 KiB: fewer splices per megabyte. Best effort (pipe-max-size).
            _ = tcplab_set_pipe_size(ends[1], Relay.pipeBytes)
            readEnd = ends[0]
            writeEnd = ends[1]
        }

        deinit {
            _ = Glibc.close(readEnd)
            _ = Glibc.close(writeEnd)
        }
    }

    /// What an accepted client needs before it becomes a pair: the upstream socket (connecting)
    /// and a pipe each way. Each is closed again if a later one cannot be opened.
    private struct Legs: ~Copyable {
        var upstream: OwnedSocket
        var forward: Channel
        var backward: Channel
    }

    /// One relayed connection. It owns both sockets and both pipes: they close together when
    /// the last reference goes, after `close(_:_:)` has taken them out of the epoll set.
    private final class Pair {
        let client: OwnedSocket
        let upstream: OwnedSocket
        /// Bytes read from the client towards the upstream, and back.
        let forward: Channel
        let backward: Channel
        /// Index s: the bytes read from side s that wait in its pipe.
        var queued = [0, 0]
        var connected = false
        /// Side s sent FIN (its read returned 0).
        var finished = [false, false]
        /// We shut down writing towards side s.
        var shutDown = [false, false]
        /// The epoll events each side is registered for, so unchanged interest costs no syscall.
        var interest: [Epoll.Events] = [[], .writable]

        init(client: consuming OwnedSocket, legs: consuming Legs) {
            self.client = client
            upstream = legs.upstream
            forward = legs.forward
            backward = legs.backward
        }

        func socket(_ side: Side) -> Socket { side == .client ? client.socket : upstream.socket }

        /// The pipe that carries side `index`'s bytes.
        func pipe(_ index: Int) -> (readEnd: Int32, writeEnd: Int32) {
            index == 0 ? (forward.readEnd, forward.writeEnd) : (backward.readEnd, backward.writeEnd)
        }
    }

    static let pipeBytes: Int32 = 1 << 20

    /// nil once closeAll() has closed it.
    private var listener: OwnedSocket?
    let upstream: SocketAddress
    private let epoll: Epoll
    private var pairs: [UInt64: Pair] = [:]
    private var nextPair: UInt64 = 1
    private(set) var statistics = Statistics()
    private let log: (String) -> Void

    static let listenerToken: UInt64 = 0

    init(listen: SocketAddress, upstream: SocketAddress, epoll: Epoll, log: @escaping (String) -> Void) throws(SystemCallError) {
        // Closed by its owner if any step throws.
        let listener = OwnedSocket(try Socket.tcp(listen.family, nonBlocking: true))
        try listener.socket.setReuseAddress(true)
        if listen.family == .ipv6 { try listener.socket.setIPv6Only() }
        try listener.socket.bind(to: listen)
        try listener.socket.listen(backlog: 1024)
        try epoll.add(listener.socket.descriptor, events: .readable, token: Self.listenerToken)
        self.listener = consume listener
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
        guard let pair = pairs[id] else { return }
        var justConnected = false
        if !pair.connected, side == .upstream {
            if let error = try? pair.socket(.upstream).pendingError() {
                statistics.upstreamFailures += 1
                log("relay: connect \(upstream): \(SystemCallError(error, call: "connect").description)")
                // The client learns the upstream is gone the way TCP would tell it: a reset.
                try? pair.socket(.client).setLingerReset()
                close(id, pair)
                return
            }
            pair.connected = true
            justConnected = true
        }
        if pair.connected {
            do {
                // Readable: this side's bytes move on. Writable: the other side's queued bytes can
                // go out here. Only those splices, so an idle direction costs no EAGAIN call.
                let other: Side = side == .client ? .upstream : .client
                let trouble = !events.isDisjoint(with: [.error, .hangUp]) || events.isEmpty
                if trouble || events.contains(.readable) { try pump(pair, from: side) }
                if trouble || events.contains(.writable) || justConnected { try pump(pair, from: other) }
            } catch {
                // A reset on one leg becomes a reset on the other.
                try? pair.socket(side == .client ? .upstream : .client).setLingerReset()
                close(id, pair)
                return
            }
        }
        if pair.finished[0] && pair.finished[1] && pair.queued[0] == 0 && pair.queued[1] == 0 {
            close(id, pair)
            return
        }
        updateInterest(id, pair)
    }

    func closeAll() {
        for (id, pair) in pairs { close(id, pair) }
        listener = nil
    }

    private func acceptAll() {
        for _ in 0..<256 {
            guard let accepted = try? listener?.socket.accept(nonBlocking: true) else { return }
            let client = OwnedSocket(accepted.0)
            statistics.accepted += 1
            let legs: Legs
            do {
                legs = try openLegs()
            } catch {
                refuse(client.socket, error)
                continue  // the client closes here
            }
            // A relay passes each write on at once: Nagle would hold small segments the client sent alone.
            for socket in [client.socket, legs.upstream.socket] {
                try? socket.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, Int32(1), name: "setsockopt(TCP_NODELAY)")
            }
            let id = nextPair
            nextPair += 1
            let pair = Pair(client: client, legs: legs)
            pairs[id] = pair
            do {
                try epoll.add(pair.socket(.client).descriptor, events: [], token: token(id, .client))
                try epoll.add(pair.socket(.upstream).descriptor, events: .writable, token: token(id, .upstream))
            } catch {
                refuse(pair.socket(.client), error)
                close(id, pair)
            }
        }
    }

    /// The upstream socket, its connect() started, and the two pipes.
    private func openLegs() throws(SystemCallError) -> Legs {
        let upstreamSocket = OwnedSocket(try Socket.tcp(upstream.family, nonBlocking: true))
        do {
            try upstreamSocket.socket.connect(to: upstream)
        } catch where error.errno == .nowInProgress {
            // Completes later: epoll reports the socket writable.
        }
        let forward = try Channel()
        let backward = try Channel()
        return Legs(upstream: upstreamSocket, forward: forward, backward: backward)
    }

    /// A client the relay cannot serve learns it the way TCP would tell it: a reset.
    private func refuse(_ client: Socket, _ error: SystemCallError) {
        statistics.upstreamFailures += 1
        log("relay: \(error)")
        try? client.setLingerReset()
    }

    private func token(_ id: UInt64, _ side: Side) -> UInt64 { Self.tokenBit | id << 1 | UInt64(side.rawValue) }

    /// Moves bytes from `side` to the other side until neither end can move more.
    private func pump(_ pair: Pair, from side: Side) throws(SystemCallError) {
        let source = pair.socket(side)
        let destination = pair.socket(side == .client ? .upstream : .client)
        let index = side.rawValue
        let pipe = pair.pipe(index)
        // A small short read means the socket is drained for now: level-triggered epoll says when it
        // is not, so no splice is spent on EAGAIN (that halves the calls per small message).
        var sourceDrained = false
        // Bounded, so one busy connection cannot starve the others (level-triggered epoll calls again).
        for _ in 0..<64 {
            var progressed = false
            if pair.queued[index] > 0 {
                if let moved = try Self.splice(from: pipe.readEnd, to: destination.rawValue, pair.queued[index], "splice(pipe → socket)") {
                    pair.queued[index] -= moved
                    statistics.bytes[index] += moved
                    progressed = moved > 0
                }
            }
            // Read on while the pipe has room: the pipe's bound is the relay's backpressure.
            if !sourceDrained, !pair.finished[index], pair.queued[index] < Int(Self.pipeBytes) {
                let room = Int(Self.pipeBytes) - pair.queued[index]
                if let moved = try Self.splice(from: source.rawValue, to: pipe.writeEnd, room, "splice(socket → pipe)") {
                    if moved == 0 {
                        pair.finished[index] = true
                    } else {
                        pair.queued[index] += moved
                        // Only small reads: in a bulk stream more has usually arrived by the next splice.
                        sourceDrained = moved < min(room, 16 * 1024)
                    }
                    progressed = true
                } else {
                    sourceDrained = true
                }
            }
            if pair.finished[index], pair.queued[index] == 0 {
                if !pair.shutDown[1 - index] {
                    try destination.shutdown(.write)
                    pair.shutDown[1 - index] = true
                }
                return
            }
            if !progressed { return }
        }
    }

    /// One splice: the bytes moved (0 at end of stream), nil when it would block.
    private static func splice(from: Int32, to: Int32, _ length: Int, _ call: String) throws(SystemCallError) -> Int? {
        do {
            return try retryingEINTR(call) { tcplab_splice(from, to, length, 0) }
        } catch where error.errno == .resourceTemporarilyUnavailable {  // EAGAIN, the same number as EWOULDBLOCK on Linux
            return nil
        }
    }

    private func updateInterest(_ id: UInt64, _ pair: Pair) {
        for side in [Side.client, .upstream] {
            let index = side.rawValue
            var events: Epoll.Events = []
            // Read from this side while its bytes have somewhere to go.
            if pair.connected, !pair.finished[index], pair.queued[index] < Int(Self.pipeBytes) { events.insert(.readable) }
            // Write to this side while the other side's bytes wait for it.
            if pair.queued[1 - index] > 0 || (!pair.connected && side == .upstream) { events.insert(.writable) }
            if events != pair.interest[index] {
                try? epoll.modify(pair.socket(side).descriptor, events: events, token: token(id, side))
                pair.interest[index] = events
            }
        }
    }

    /// Forgets the pair and takes its sockets out of the epoll set; its descriptors close when
    /// the caller drops its reference, the last one (no close() to forget, none twice).
    private func close(_ id: UInt64, _ pair: Pair) {
        pairs[id] = nil
        for side in [Side.client, .upstream] { try? epoll.remove(pair.socket(side).descriptor) }
    }
}
