import ArgumentParser
import SystemPackage
import TCPLabCommandSupport
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Blocking sockets, one connection at a time: the client is a probe, and a blocking connect()
/// shows the kernel's own SYN retry schedule with nothing of ours in between.
struct EchoClient {
    var server: SocketAddress
    var payload: Payload
    var count: Int
    var connections: Int
    var bind: SocketAddress?
    var connectTimeout: Duration?
    var keepalive: Keepalive?
    var lingerReset: Bool
    var hold: Duration?
    /// TCP_USER_TIMEOUT: how long data may stay unacknowledged before the kernel gives up.
    var userTimeout: Duration?
    /// Write without reading echoes: a write error is the first sign of a dead or reset peer.
    var sendOnly: Bool
    var interval: Duration?
    var close: ClientClose

    struct Failure: Error {
        var status: ExitCode
        var errnoName: String
        var message: String
    }

    struct Outcome {
        var report: ClientReport
        var failure: Failure?
    }

    func run() -> Outcome {
        let start = MonotonicClock.now()
        var report = ClientReport(echoOK: false, bytes: 0, error: nil, elapsedMilliseconds: 0, connections: 0)
        var failure: Failure?
        for _ in 0..<connections {
            do {
                try runOne(&report, start: start)
                report.connections += 1
            } catch {
                failure = error
                break
            }
        }
        report.echoOK = failure == nil
        report.error = failure?.errnoName
        report.elapsedMilliseconds = MonotonicClock.millisecondsSince(start)
        return Outcome(report: report, failure: failure)
    }

    private func runOne(_ report: inout ClientReport, start: UInt64) throws(Failure) {
        let socket = try prepared()
        defer { if close != .never { socket.close() } }
        let connectStart = MonotonicClock.now()
        do {
            try connect(socket)
            report.connectMilliseconds = MonotonicClock.millisecondsSince(connectStart)
        } catch {
            report.connectMilliseconds = MonotonicClock.millisecondsSince(connectStart)
            let seconds = String(format2: report.connectMilliseconds! / 1000)
            throw Failure(status: ExitStatus.connectFailed, errnoName: error.errnoName, message: "\(error) after \(seconds) s")
        }
        report.local = try? socket.localAddress().description
        if let hold { MonotonicClock.sleep(nanoseconds: UInt64(hold.totalNanoseconds)) }

        do {
            for index in 0..<count {
                if index > 0, let interval { MonotonicClock.sleep(nanoseconds: UInt64(interval.totalNanoseconds)) }
                let sent = payload.bytes(message: index)
                if report.firstWriteMilliseconds == nil { report.firstWriteMilliseconds = MonotonicClock.millisecondsSince(start) }
                try socket.writeAll(sent)
                if sendOnly {
                    report.sent += sent.count
                    continue
                }
                let echoed = try readExactly(socket, sent.count)
                guard echoed == sent else {
                    report.tcpInfo = try? socket.tcpInfo()
                    let what = echoed.count < sent.count ? "the server closed after \(echoed.count) of \(sent.count) bytes" : "the echo differs from what was sent"
                    throw Failure(status: ExitStatus.wrongEcho, errnoName: "EBADECHO", message: "echo from \(server): \(what)")
                }
                report.bytes += echoed.count
            }
            try finish(socket)
            report.tcpInfo = try? socket.tcpInfo()
        } catch let error as SystemCallError {
            report.tcpInfo = try? socket.tcpInfo()
            throw Failure(status: ExitStatus.connectionBroken, errnoName: error.errnoName, message: "\(error) after \(String(format2: MonotonicClock.millisecondsSince(connectStart) / 1000)) s")
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(status: ExitStatus.failure, errnoName: "EIO", message: "\(error)")
        }
    }

    private func prepared() throws(Failure) -> Socket {
        do throws(SystemCallError) {
            let socket = try Socket.tcp(server.family)
            do {
                if let keepalive { try socket.setKeepalive(keepalive) }
                if lingerReset { try socket.setLingerReset() }
                if let userTimeout {
                    try socket.setOption(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, UInt32(userTimeout.totalNanoseconds / 1_000_000), name: "TCP_USER_TIMEOUT")
                }
                if let bind { try socket.bind(to: bind) }
                return socket
            } catch {
                socket.close()
                throw error
            }
        } catch {
            throw Failure(status: ExitStatus.failure, errnoName: error.errnoName, message: "\(error)")
        }
    }

    /// A blocking connect, or a non-blocking one bounded by poll() when --connect-timeout is set.
    private func connect(_ socket: Socket) throws(SystemCallError) {
        guard let connectTimeout else {
            try socket.connect(to: server)
            return
        }
        try socket.setNonBlocking()
        do {
            try socket.connect(to: server)
        } catch where error.errno == .nowInProgress || error.errno == .interrupted {
            var descriptor = pollfd(fd: socket.rawValue, events: Int16(POLLOUT), revents: 0)
            let deadline = MonotonicClock.now() + UInt64(connectTimeout.totalNanoseconds)
            while true {
                let now = MonotonicClock.now()
                guard now < deadline else {
                    throw SystemCallError(.timedOut, call: "connect", subject: server.description)
                }
                let ready = poll(&descriptor, 1, Int32((deadline - now + 999_999) / 1_000_000))
                if ready > 0 { break }
                if ready < 0, errno != EINTR { throw SystemCallError(Errno(rawValue: errno), call: "poll") }
            }
            if let pending = try socket.pendingError() {
                throw SystemCallError(pending, call: "connect", subject: server.description)
            }
        }
        // Back to blocking for the echo.
        let flags = fcntl(socket.rawValue, F_GETFL)
        _ = fcntl(socket.rawValue, F_SETFL, flags & ~O_NONBLOCK)
    }

    /// Reads until `count` bytes or EOF.
    private func readExactly(_ socket: Socket, _ count: Int) throws(SystemCallError) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received.count < count {
            let wanted = min(buffer.count, count - received.count)
            let got = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(SystemCallError) -> Int? in try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted])) }
            }.get() ?? 0
            if got == 0 { break }
            received.append(contentsOf: buffer[0..<got])
        }
        return received
    }

    private func finish(_ socket: Socket) throws(SystemCallError) {
        switch close {
        case .first:
            return
        case .shutdown:
            try socket.shutdown(.write)
            try drainUntilEOF(socket)
        case .waitPeer:
            try drainUntilEOF(socket)
        case .never:
            // Hold the socket until SIGINT/SIGTERM; the kernel closes it when the process exits.
            var blocked = sigset_t()
            sigemptyset(&blocked)
            sigaddset(&blocked, SIGINT)
            sigaddset(&blocked, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
            var signal: Int32 = 0
            sigwait(&blocked, &signal)
        }
    }

    private func drainUntilEOF(_ socket: Socket) throws(SystemCallError) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while try buffer.withUnsafeMutableBytes({ raw in Result { () throws(SystemCallError) -> Int? in try socket.read(into: raw) } }).get() ?? 0 > 0 {}
    }
}

extension String {
    /// Two decimals, without Foundation's String(format:).
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = abs(hundredths % 100)
        self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
