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

    /// One direction's buffer: a pipe, and how many bytes wait in it.
    private struct Channel {
        let readEnd: Int32
        let writeEnd: Int32
        var queued = 0

        static func open() throws(SystemCallError) -> Channel {
            var ends: [Int32] = [-1, -1]
            _ = try retryingEINTR("pipe2") { tcplab_pipe_nonblocking(&ends) }
            // Larger than the default 64 KiB: fewer splices per megabyte. Best effort (pipe-max-size).
            _ = tcplab_set_pipe_size(ends[1], Relay.pipeBytes)
            return Channel(readEnd: ends[0], writeEnd: ends[1])
        }

        func close() {
            _ = Glibc.close(readEnd)
            _ = Glibc.close(writeEnd)
        }
    }

    private struct Pair {
        let client: Socket
        let upstream: Socket
        /// Index s carries bytes read from side s towards the other side.
        var channels: [Channel]
        var connected = false
        /// Side s sent FIN (its read returned 0).
        var finished = [false, false]
        /// We shut down writing towards side s.
        var shutDown = [false, false]
        /// The epoll events each side is registered for, so unchanged interest costs no syscall.
        var interest: [Epoll.Events] = [[], .writable]

        func socket(_ side: Side) -> Socket { side == .client ? client : upstream }
    }

    static let pipeBytes: Int32 = 1 << 20

    let listener: Socket
    let upstream: SocketAddress
    private let epoll: Epoll
    private var pairs: [UInt64: Pair] = [:]
    private var nextPair: UInt64 = 1
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
        var justConnected = false
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
            justConnected = true
        }
        if pair.connected {
            do {
                // Readable: this side's bytes move on. Writable: the other side's queued bytes can
                // go out here. Only those splices, so an idle direction costs no EAGAIN call.
                let other: Side = side == .client ? .upstream : .client
                let trouble = !events.isDisjoint(with: [.error, .hangUp]) || events.isEmpty
                if trouble || events.contains(.readable) { try pump(&pair, from: side) }
                if trouble || events.contains(.writable) || justConnected { try pump(&pair, from: other) }
            } catch {
                // A reset on one leg becomes a reset on the other.
                let other = side == .client ? pair.upstream : pair.client
                try? other.setLingerReset()
                close(id, pair)
                return
            }
        }
        if pair.finished[0] && pair.finished[1] && pair.channels[0].queued == 0 && pair.channels[1].queued == 0 {
            close(id, pair)
            return
        }
        updateInterest(id, &pair)
        pairs[id] = pair
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
                let channels: [Channel]
                do {
                    let forward = try Channel.open()
                    do {
                        channels = [forward, try Channel.open()]
                    } catch {
                        forward.close()
                        throw error
                    }
                } catch {
                    upstreamSocket.close()
                    throw error
                }
                // A relay passes each write on at once: Nagle would hold small segments the client sent alone.
                for socket in [client, upstreamSocket] {
                    try? socket.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, Int32(1), name: "setsockopt(TCP_NODELAY)")
                }
                let id = nextPair
                nextPair += 1
                pairs[id] = Pair(client: client, upstream: upstreamSocket, channels: channels)
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

    /// Moves bytes from `side` to the other side until neither end can move more.
    private func pump(_ pair: inout Pair, from side: Side) throws(SystemCallError) {
        let source = pair.socket(side)
        let destination = pair.socket(side == .client ? .upstream : .client)
        let index = side.rawValue
        // A small short read means the socket is drained for now: level-triggered epoll says when it
        // is not, so no splice is spent on EAGAIN (that halves the calls per small message).
        var sourceDrained = false
        // Bounded, so one busy connection cannot starve the others (level-triggered epoll calls again).
        for _ in 0..<64 {
            let channel = pair.channels[index]
            var progressed = false
            if channel.queued > 0 {
                if let moved = try Self.splice(from: channel.readEnd, to: destination.rawValue, channel.queued, "splice(pipe → socket)") {
                    pair.channels[index].queued -= moved
                    statistics.bytes[index] += moved
                    progressed = moved > 0
                }
            }
            // Read on while the pipe has room: the pipe's bound is the relay's backpressure.
            if !sourceDrained, !pair.finished[index], pair.channels[index].queued < Int(Self.pipeBytes) {
                let room = Int(Self.pipeBytes) - pair.channels[index].queued
                if let moved = try Self.splice(from: source.rawValue, to: channel.writeEnd, room, "splice(socket → pipe)") {
                    if moved == 0 {
                        pair.finished[index] = true
                    } else {
                        pair.channels[index].queued += moved
                        // Only small reads: in a bulk stream more has usually arrived by the next splice.
                        sourceDrained = moved < min(room, 16 * 1024)
                    }
                    progressed = true
                } else {
                    sourceDrained = true
                }
            }
            if pair.finished[index], pair.channels[index].queued == 0 {
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

    private func updateInterest(_ id: UInt64, _ pair: inout Pair) {
        for side in [Side.client, .upstream] {
            let index = side.rawValue
            var events: Epoll.Events = []
            // Read from this side while its bytes have somewhere to go.
            if pair.connected, !pair.finished[index], pair.channels[index].queued < Int(Self.pipeBytes) { events.insert(.readable) }
            // Write to this side while the other side's bytes wait for it.
            if pair.channels[1 - index].queued > 0 || (!pair.connected && side == .upstream) { events.insert(.writable) }
            if events != pair.interest[index] {
                try? epoll.modify(pair.socket(side).descriptor, events: events, token: token(id, side))
                pair.interest[index] = events
            }
        }
    }

    private func close(_ id: UInt64, _ pair: Pair) {
        pairs[id] = nil
        for socket in [pair.client, pair.upstream] {
            try? epoll.remove(socket.descriptor)
            socket.close()
        }
        for channel in pair.channels { channel.close() }
    }
}
