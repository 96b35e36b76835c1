import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let timeWait = LabDefinition(
        "time-wait", family: .teardown,
        summary: "TIME_WAIT only on the active closer, a fixed 60 s; bind() and connect() reuse; SO_LINGER {1,0} avoids it with RST",
        question: "为什么 TIME_WAIT 等待的时间是 2MSL？/ 为什么需要 TIME_WAIT 状态？(why TIME_WAIT, and why 2 MSL)",
        fastSysctls: [("net.ipv4.tcp_tw_reuse_delay", 100)]
    ) { ctx in
        let lab = ctx.lab
        try lab.echoServer()
        try lab.sysctl("net.ipv4.tcp_tw_reuse", 0)
        var fault = try ctx.faultproxy()
        let server = try SocketAddress(host: lab.serverAddress, port: lab.port)
        let port = try SocketAddress(host: lab.clientAddress, port: 40000)
        // The client socket sets SO_REUSEADDR: Linux lets a bind share a port with a TIME_WAIT
        // socket only when both asked for it (inet_csk_bind_conflict; tw_reuse is copied at close).
        try lab.inside(.client) {
            let socket = try Socket.tcp(.ipv4)
            try socket.setReuseAddress(true)
            try socket.bind(to: port)
            try socket.connect(to: server)
            // No data: closing with unread bytes would send RST instead of FIN.
            usleep(20_000)
            socket.close()
        }
        var observation = fault.wait(timeout: 1) { $0.firstTime(.client, entered: "TIME_WAIT") != nil }
        let timer = try lab.timeWaitTimers().first { $0.localPort == 40000 }
        let readAt = timer?.readAtUnixMicroseconds ?? Int64(Date().timeIntervalSince1970 * 1_000_000)
        observation = fault.stop()
        ctx.show(observation, "a normal close, the client first")
        ctx.expect("the client closed first and is in", expected: "TIME_WAIT", observed: observation.statePath(.client).last)
        ctx.expect("the server (passive closer) has no TIME_WAIT", !observation.statePath(.server).contains("TIME_WAIT"),
                   expected: "no TIME_WAIT", observed: observation.statePath(.server).joined(separator: " → "))
        if let entered = observation.segments(.lastAck, from: .client).first?.timeUnixMicroseconds, let timer {
            let elapsed = Double(readAt - entered) / 1_000_000
            ctx.expectTime("TIME_WAIT timer (TCP_TIMEWAIT_LEN − time since)", expected: CloseTimersModel.timeWaitLength - elapsed, observed: timer.seconds, timers: [], resolution: 0.02)
        } else {
            ctx.expect("a TIME_WAIT socket in /proc/net/tcp", false, expected: "one on port 40000", observed: "none")
        }
        let plainBind = try lab.inside(.client) { () -> String in
            let socket = try Socket.tcp(.ipv4)
            defer { socket.close() }
            do { try socket.bind(to: port); return "bound" } catch { return error.errnoName }
        }
        ctx.expect("bind() to the TIME_WAIT port without SO_REUSEADDR", expected: "EADDRINUSE", observed: plainBind)
        @Sendable func connectFromTheSamePort() throws -> String {
            let socket = try Socket.tcp(.ipv4)
            defer { socket.close() }
            try socket.setReuseAddress(true)
            do { try socket.bind(to: port) } catch { return "bind: " + error.errnoName }
            do { try socket.connect(to: server); return "connected" } catch { return error.errnoName }
        }
        // tcp_twsk_unique(): a connect() from an explicitly bound port (twp == NULL) may take
        // over a TIME_WAIT that has timestamps whatever tcp_tw_reuse says; the sysctl only
        // governs ports connect() picks itself (time-wait-exhaustion shows that).
        ctx.expect("bind() with SO_REUSEADDR, then connect() on the same 4-tuple (tcp_tw_reuse=0)", expected: "connected", observed: try lab.inside(.client, connectFromTheSamePort))
        ctx.fact("an explicitly bound connect() takes over a TIME_WAIT with timestamps even with tcp_tw_reuse=0 (tcp_twsk_unique, twp == NULL); tcp_tw_reuse matters for automatically chosen ports")
        // SO_LINGER {1, 0}: close() sends RST and leaves no TIME_WAIT.
        fault = try ctx.faultproxy()
        let before = try lab.sockets(["state", "time-wait"]).count
        _ = try lab.echoClient(["--linger-reset", "--bind", "\(lab.clientAddress):40002"])
        observation = fault.stop()
        ctx.show(observation, "SO_LINGER {1, 0}: close() resets")
        ctx.expect("close() with SO_LINGER {1,0} sends", expected: "rst", observed: observation.segments(from: .client).last?.kind.rawValue)
        ctx.expect("TIME_WAIT sockets on port 40002 after the reset close", expected: 0, observed: try lab.timeWaitTimers().filter { $0.localPort == 40002 }.count)
        _ = before
        ctx.notes(say: "客户端等待2MSL后 … 进入 CLOSED: TIME_WAIT lasts 2 MSL",
                  kernel: "Linux waits a fixed TCP_TIMEWAIT_LEN = 60 s, whatever the MSL; no sysctl changes it", agree: false)
    }
}
