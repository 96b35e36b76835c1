import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Many client connections on one epoll set: each connects, sends `rounds` one-byte messages one
/// after the other and waits for each echo. Either keeps them open (holding) or closes each as soon
/// as its echoes are back and opens the next (churn).
final class ConnectionDriver {
    private enum Phase { case connecting, awaitingEcho, done }

    private struct Connection {
        var socket: Socket
        var token: UInt64
        var phase: Phase
        var echoesLeft: Int
    }

    let port: UInt16
    private let epoll: Epoll
    private var connections: [Int: Connection] = [:]
    private var nextToken = 0
    private(set) var completed = 0
    private(set) var failed = 0

    init(port: UInt16) throws {
        self.port = port
        epoll = try Epoll(capacity: 1024)
    }

    deinit {
        closeAll()
        epoll.close()
    }

    var openCount: Int { connections.count }

    /// Opens `total` connections, at most `concurrency` handshakes at a time, each doing `rounds`
    /// echoes; with `hold` they stay open afterwards. Returns when all finished or at `deadline`.
    func run(total: Int, concurrency: Int, rounds: Int, hold: Bool, deadline: UInt64) throws {
        var started = 0
        var active = 0
        let address = try SocketAddress(host: "127.0.0.1", port: port)
        while MonotonicClock.now() < deadline {
            while started < total, active < concurrency {
                started += 1
                if try open(address, rounds: rounds) { active += 1 } else { failed += 1 }
            }
            if active == 0 { return }
            for (token, events) in try epoll.wait(timeoutMilliseconds: 100) {
                let key = Int(token)
                guard var connection = connections[key] else { continue }
                let finished = step(&connection, events)
                if connection.phase == .done || finished == false {
                    active -= 1
                    if finished == false { failed += 1 } else { completed += 1 }
                    if !hold || finished == false {
                        try? epoll.remove(connection.socket.descriptor)
                        connection.socket.close()
                        connections[key] = nil
                        continue
                    }
                    try? epoll.modify(connection.socket.descriptor, events: [], token: token)
                }
                connections[key] = connection
            }
        }
    }

    /// Sends one more echo round on every held connection and counts those that answer by `deadline`.
    func pingHeld(deadline: UInt64) throws -> Int {
        var waiting = 0
        for (key, var connection) in connections {
            connection.phase = .awaitingEcho
            connection.echoesLeft = 1
            if send(connection.socket) {
                try epoll.modify(connection.socket.descriptor, events: .readable, token: UInt64(key))
                waiting += 1
                connections[key] = connection
            }
        }
        var answered = 0
        while answered < waiting, MonotonicClock.now() < deadline {
            for (token, events) in try epoll.wait(timeoutMilliseconds: 100) {
                guard var connection = connections[Int(token)], connection.phase == .awaitingEcho else { continue }
                if step(&connection, events) == true, connection.phase == .done {
                    answered += 1
                    try? epoll.modify(connection.socket.descriptor, events: [], token: token)
                }
                connections[Int(token)] = connection
            }
        }
        return answered
    }

    func closeAll() {
        for connection in connections.values { connection.socket.close() }
        connections.removeAll()
    }

    private func open(_ address: SocketAddress, rounds: Int) throws -> Bool {
        let socket = try Socket.tcp(address.family, nonBlocking: true)
        do {
            try socket.connect(to: address)
        } catch {
            guard error.errno == .nowInProgress else {
                socket.close()
                return false
            }
        }
        let token = nextToken
        nextToken += 1
        connections[token] = Connection(socket: socket, token: UInt64(token), phase: .connecting, echoesLeft: rounds)
        try epoll.add(socket.descriptor, events: .writable, token: UInt64(token))
        return true
    }

    /// Advances one connection; nil while it goes on, true when its echoes are done, false on failure.
    private func step(_ connection: inout Connection, _ events: Epoll.Events) -> Bool? {
        switch connection.phase {
        case .connecting:
            guard (try? connection.socket.pendingError()) == .some(nil), send(connection.socket) else { return false }
            connection.phase = .awaitingEcho
            try? epoll.modify(connection.socket.descriptor, events: .readable, token: connection.token)
            return nil
        case .awaitingEcho:
            var byte: UInt8 = 0
            let socket = connection.socket
            let result = withUnsafeMutableBytes(of: &byte) { raw in Result { () throws(SystemCallError) -> Int? in try socket.read(into: raw) } }
            guard case .success(let count) = result else { return false }
            // Would block (a spurious wakeup): wait for the next event.
            guard let count else { return nil }
            guard count == 1 else { return false }
            connection.echoesLeft -= 1
            if connection.echoesLeft == 0 {
                connection.phase = .done
                return true
            }
            return send(connection.socket) ? nil : false
        case .done:
            return true
        }
    }

    private func send(_ socket: Socket) -> Bool {
        var byte: UInt8 = 0x65
        return withUnsafeBytes(of: &byte) { (try? socket.write($0)) ?? nil } == 1
    }
}
