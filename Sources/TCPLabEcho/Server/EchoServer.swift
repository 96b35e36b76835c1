import HeapModule
import SystemPackage
import TCPLabSchema
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// The echo loop. I/O model: one thread, one level-triggered epoll set holding the listener, a
/// signalfd and every connection; non-blocking sockets with a per-connection backlog of bytes not
/// yet written; close deadlines in a min-heap that sets epoll_wait's timeout. No thread per
/// connection, so 10k connections cost 10k descriptors and a little memory, nothing more.
final class EchoServer {
    struct Configuration {
        var address: SocketAddress
        var backlog: Int32
        var accept: AcceptMode
        var acceptDelay: Duration?
        var close: ClosePolicy
        var shutdownWrite: Bool
        var lingerReset: Bool
        var keepalive: Keepalive?
        var reuseAddress: Bool
        var json: Bool
        /// Where events go (nil: JSON lines on stdout with --json, else one line each on stderr).
        var events: (@Sendable (EchoServerEvent, String) -> Void)? = nil
        /// --max-files: the soft RLIMIT_NOFILE, set once the listener is up (nil: raise it to the hard limit).
        var maxFiles: UInt64? = nil
    }

    private struct Connection {
        let socket: Socket
        let peer: SocketAddress
        /// Echo bytes the kernel's send buffer has not taken yet.
        var unsent: [UInt8] = []
        var echoedAnything = false
        var halfClosed = false
        /// The policy said close while echo bytes were still queued: close once they are out.
        var closeWhenFlushed = false
    }

    /// A timer: close connection `token` at `deadline`, or (token 0) poll the listener again
    /// (after --accept-delay, or after an EMFILE back-off).
    private struct Deadline: Comparable {
        let at: UInt64
        let token: UInt64
        static func < (a: Deadline, b: Deadline) -> Bool { a.at < b.at }
    }

    private static let listenerToken: UInt64 = 0
    private static let signalToken: UInt64 = 1

    private let configuration: Configuration
    private var connections: [UInt64: Connection] = [:]
    private var nextToken: UInt64 = 2
    private var deadlines = Heap<Deadline>()
    private var readBuffer = [UInt8](repeating: 0, count: 65536)
    /// The listener while accept() may be called on it (set in `run`).
    private var listener: Socket?
    /// Whether the listener is in the epoll set now.
    private var listenerPolled = false
    private var throttle = AcceptThrottle()
    /// When the current accept pause ends (its deadline in `deadlines`).
    private var listenerRetryAt: UInt64 = 0

    init(_ configuration: Configuration) { self.configuration = configuration }

    static func report(_ event: EchoServerEvent, json: Bool, human: @autoclosure () -> String) {
        if json { JSONLines.emit(event) } else { printError(human()) }
    }

    private func report(_ event: EchoServerEvent, _ human: @autoclosure () -> String) {
        if let events = configuration.events { events(event, human()) } else { Self.report(event, json: configuration.json, human: human()) }
    }

    /// Serves until SIGINT/SIGTERM.
    func run() throws {
        // Signals first, before anything could start a thread that would receive them.
        try run(until: try SignalFD())
    }

    /// Serves until `stop` (a signal, or another thread of the process).
    func run(until signals: some StopRequest) throws {
        if configuration.maxFiles == nil { ResourceLimits.raiseOpenFileLimit() }
        let listener = try makeListener()
        defer { listener.close() }
        let epoll = try Epoll()
        defer { epoll.close() }
        try epoll.add(signals.descriptor, events: .readable, token: Self.signalToken)
        // Lowered only now, so the limit counts the descriptors the server itself needs.
        if let maxFiles = configuration.maxFiles { try OpenFileLimit.setSoft(maxFiles) }

        let address = (try? listener.localAddress())?.description ?? configuration.address.description
        // With --max-files: how many connections fit before accept() fails (descriptor numbers free below the limit).
        let free = configuration.maxFiles.flatMap { OpenFileLimit.freeDescriptors(under: $0) }
        let limit = configuration.maxFiles.map { " (open-file limit \($0), \(free.map(String.init) ?? "?") descriptors free)" } ?? ""
        report(EchoServerEvent(event: "listening", address: address, backlog: Int(configuration.backlog),
                           maxFiles: configuration.maxFiles.map(Int.init), freeFiles: free),
               "listening on \(address) (backlog \(configuration.backlog))\(limit)")

        switch (configuration.accept, configuration.acceptDelay) {
        case (.never, _): break
        case (.always, let delay?):
            deadlines.insert(Deadline(at: MonotonicClock.now() + UInt64(delay.totalNanoseconds), token: Self.listenerToken))
            self.listener = listener
        case (.always, nil):
            self.listener = listener
            try pollListener(epoll)
        }

        while true {
            for (token, ready) in try epoll.wait(timeoutMilliseconds: nextTimeout()) {
                switch token {
                case Self.signalToken:
                    if signals.consume() { shutDown(epoll); return }
                case Self.listenerToken:
                    try acceptReady(listener, epoll)
                default:
                    service(token, ready, epoll)
                }
            }
            try fireDeadlines(listener, epoll)
        }
    }

    private func makeListener() throws(SystemCallError) -> Socket {
        let listener = try Socket.tcp(configuration.address.family, nonBlocking: true)
        do {
            if configuration.reuseAddress { try listener.setReuseAddress(true) }
            if configuration.address.family == .ipv6 { try listener.setIPv6Only() }
            try listener.bind(to: configuration.address)
            try listener.listen(backlog: configuration.backlog)
        } catch {
            listener.close()
            throw error
        }
        return listener
    }

    private func nextTimeout() -> Int32 {
        guard let first = deadlines.min else { return -1 }
        let now = MonotonicClock.now()
        guard first.at > now else { return 0 }
        // Round up so we never wake a tick early and spin.
        return Int32(min((first.at - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    private func fireDeadlines(_ listener: Socket, _ epoll: Epoll) throws {
        let now = MonotonicClock.now()
        while let first = deadlines.min, first.at <= now {
            _ = deadlines.removeMin()
            if first.token == Self.listenerToken {
                // A back-off an earlier close already ended is stale: only the latest one counts.
                if !throttle.paused || first.at == listenerRetryAt { try pollListener(epoll) }
            } else if connections[first.token] != nil {
                closeByPolicy(first.token, epoll)
            }
        }
    }

    /// Puts the listener (back) into the epoll set, once; a no-op while it is there or after
    /// shutdown. Ends an accept pause.
    private func pollListener(_ epoll: Epoll) throws(SystemCallError) {
        guard let listener, !listenerPolled else { return }
        try epoll.add(listener.descriptor, events: .readable, token: Self.listenerToken)
        listenerPolled = true
        throttle.resume()
    }

    /// accept() failed for lack of descriptors or memory: stop polling the level-triggered
    /// listener (it would wake us at once, forever) until a connection closes or the back-off ends.
    private func pauseAccepting(_ listener: Socket, _ epoll: Epoll, _ error: SystemCallError) throws(SystemCallError) {
        let (startsEpisode, wait) = throttle.failed(now: MonotonicClock.now())
        if listenerPolled {
            try epoll.remove(listener.descriptor)
            listenerPolled = false
        }
        let retryAt = MonotonicClock.now() + wait
        listenerRetryAt = retryAt
        deadlines.insert(Deadline(at: retryAt, token: Self.listenerToken))
        if startsEpisode {
            report(EchoServerEvent(event: "error", error: error.errnoName, message: "\(error)", call: error.call, retryMilliseconds: Int(wait / 1_000_000)),
                   "\(error); not accepting until a connection closes (or \(wait / 1_000_000) ms, then backing off)")
        }
    }

    /// No connection waits for accept() any more: an EMFILE episode (if any) is over.
    private func endEpisode() {
        guard let episode = throttle.caughtUp(now: MonotonicClock.now()) else { return }
        let milliseconds = Double(episode.nanoseconds) / 1e6
        report(EchoServerEvent(event: "resumed", failures: episode.failures, durationMilliseconds: milliseconds),
               "accept queue drained after \(episode.failures) failed accept() calls in \(Int(milliseconds)) ms")
    }

    /// Whether the accept queue holds a connection (the listener polls readable).
    private static func hasWaitingConnections(_ listener: Socket) -> Bool {
        (try? Poll.wait(listener.descriptor.rawValue, for: .readable, timeoutMilliseconds: 0))?.contains(.readable) ?? false
    }

    private func acceptReady(_ listener: Socket, _ epoll: Epoll) throws {
        // Take everything queued now; level-triggered epoll brings us back for the rest.
        for _ in 0..<1024 {
            let next: (Socket, SocketAddress)?
            do {
                next = try listener.accept(nonBlocking: true)
            } catch {
                guard AcceptThrottle.isResourceExhaustion(error.errno) else { throw error }
                // accept4 takes a descriptor before it looks at the queue: at the limit it fails
                // even when nobody waits. Only waiting connections make it an episode.
                if Self.hasWaitingConnections(listener) {
                    try pauseAccepting(listener, epoll, error)
                } else {
                    endEpisode()
                }
                return
            }
            guard let (socket, peer) = next else {
                endEpisode()
                return
            }
            do {
                if configuration.lingerReset { try socket.setLingerReset() }
                if let keepalive = configuration.keepalive { try socket.setKeepalive(keepalive) }
                let token = nextToken
                nextToken += 1
                try epoll.add(socket.descriptor, events: .readable, token: token)
                connections[token] = Connection(socket: socket, peer: peer)
                report(EchoServerEvent(event: "accepted", peer: peer.description), "accepted \(peer)")
                if case .after(let delay) = configuration.close {
                    deadlines.insert(Deadline(at: MonotonicClock.now() + UInt64(delay.totalNanoseconds), token: token))
                }
            } catch {
                socket.close()
                report(EchoServerEvent(event: "error", peer: peer.description, error: error.errnoName, message: "\(error)"), "\(peer): \(error)")
            }
        }
    }

    private func service(_ token: UInt64, _ ready: Epoll.Events, _ epoll: Epoll) {
        guard var connection = connections[token] else { return }
        do {
            if ready.contains(.writable) || !connection.unsent.isEmpty {
                try flush(&connection, token, epoll)
            }
            if connection.closeWhenFlushed {
                connections[token] = connection
                if connection.unsent.isEmpty { closeByPolicy(token, epoll) }
                return
            }
            if ready.contains(.readable) || ready.contains(.hangUp) || ready.contains(.error) {
                let count = try readBuffer.withUnsafeMutableBytes { raw in
                    Result { () throws(SystemCallError) -> Int? in try connection.socket.read(into: raw) }
                }.get()
                guard let count else { connections[token] = connection; return }
                if count == 0 {
                    connections[token] = connection
                    peerClosed(token, epoll)
                    return
                }
                if connection.halfClosed {
                    // Our side is shut: nothing can be echoed any more, only received.
                    connections[token] = connection
                    return
                }
                connection.unsent.append(contentsOf: readBuffer[0..<count])
                try flush(&connection, token, epoll)
                report(EchoServerEvent(event: "echoed", peer: connection.peer.description, bytes: count), "echoed \(count) bytes to \(connection.peer)")
                let firstEcho = !connection.echoedAnything
                connection.echoedAnything = true
                connections[token] = connection
                if firstEcho, configuration.close == .first {
                    closeByPolicy(token, epoll)
                }
                return
            }
            connections[token] = connection
        } catch {
            connections[token] = connection
            finish(token, epoll, how: "error", error: error)
        }
    }

    /// Writes what the send buffer takes; asks epoll for EPOLLOUT only while bytes are left.
    private func flush(_ connection: inout Connection, _ token: UInt64, _ epoll: Epoll) throws(SystemCallError) {
        while !connection.unsent.isEmpty {
            let unsent = connection.unsent
            let written = try unsent.withUnsafeBytes { raw in
                Result { () throws(SystemCallError) -> Int? in try connection.socket.write(raw) }
            }.get()
            guard let written else { break }
            connection.unsent.removeFirst(written)
        }
        try epoll.modify(connection.socket.descriptor, events: Self.interest(connection), token: token)
    }

    /// Read unless we only wait to flush and close; write while echo bytes wait.
    private static func interest(_ connection: Connection) -> Epoll.Events {
        var events: Epoll.Events = []
        if !connection.closeWhenFlushed { events.insert(.readable) }
        if !connection.unsent.isEmpty { events.insert(.writable) }
        return events
    }

    /// The client sent FIN.
    private func peerClosed(_ token: UInt64, _ epoll: Epoll) {
        guard let connection = connections[token] else { return }
        switch configuration.close {
        case .never:
            // Stop listening for it but keep the descriptor: the kernel keeps the socket in
            // CLOSE_WAIT (for good, or until the after:D deadline closes it).
            try? epoll.remove(connection.socket.descriptor)
        case .after where !connection.halfClosed:
            try? epoll.remove(connection.socket.descriptor)
        case .peer, .first, .after:
            if connection.halfClosed {
                finish(token, epoll, how: "shutdown", error: nil)
            } else {
                closeByPolicy(token, epoll)
            }
        }
    }

    /// The server's own close: close(), or shutdown(SHUT_WR) and wait for the client's FIN.
    private func closeByPolicy(_ token: UInt64, _ epoll: Epoll) {
        guard var connection = connections[token] else { return }
        if !connection.unsent.isEmpty {
            // Never cut the echo short: close once the kernel has taken every queued byte.
            connection.closeWhenFlushed = true
            connections[token] = connection
            try? epoll.modify(connection.socket.descriptor, events: Self.interest(connection), token: token)
            return
        }
        connection.closeWhenFlushed = false
        guard configuration.shutdownWrite, !connection.halfClosed else {
            finish(token, epoll, how: configuration.lingerReset ? "reset" : "close", error: nil)
            return
        }
        do {
            try connection.socket.shutdown(.write)
            connection.halfClosed = true
            connections[token] = connection
            // Keep reading: the client's FIN ends the connection.
            try epoll.modify(connection.socket.descriptor, events: Self.interest(connection), token: token)
            report(EchoServerEvent(event: "shutdown", peer: connection.peer.description), "shut down writing to \(connection.peer)")
        } catch {
            finish(token, epoll, how: "error", error: error)
        }
    }

    private func finish(_ token: UInt64, _ epoll: Epoll, how: String, error: SystemCallError?) {
        guard let connection = connections.removeValue(forKey: token) else { return }
        let info = try? connection.socket.tcpInfo()
        try? epoll.remove(connection.socket.descriptor)
        connection.socket.close()
        let detail = error.map { ": \($0)" } ?? ""
        report(EchoServerEvent(event: "closed", peer: connection.peer.description, how: how, error: error?.errnoName, tcpInfo: info),
               "closed \(connection.peer) (\(how))\(detail)")
        // A descriptor is free again: a paused listener gets its chance at once.
        if throttle.paused { try? pollListener(epoll) }
    }

    private func shutDown(_ epoll: Epoll) {
        listener = nil
        for token in Array(connections.keys) { finish(token, epoll, how: "close", error: nil) }
    }
}
