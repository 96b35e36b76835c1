import Foundation
import TCPLabFault
import TCPLabSystem

/// Connection tear-down: the four segments of a close and what each lost one does.
enum TeardownLabs {
    static let all: [LabDefinition] = [teardown, finLost, finAckLost, peerFinLost, lastAckLost, timeWait, timeWaitExhaustion, simultaneousClose, closeWaitLeak]

    /// The RTO the model expects for an established loopback connection, from the client's measured RTT.
    static func rto(_ ctx: LabContext, _ client: ClientResult) -> Double {
        let rto = EstablishedRetransmissionModel.rto(rtt: client.rttSeconds ?? 0, rtoMin: ctx.kernel.rtoMin)
        ctx.fact("RTO model: srtt \(Int(((client.rttSeconds ?? 0) * 1_000_000).rounded())) µs (TCP_INFO) + rttvar floored at tcp_rto_min \(TimingTolerance.format(ctx.kernel.rtoMin)) s, rounded up to a tick = \(TimingTolerance.format(rto)) s; TCP_INFO says \(client.rtoSeconds.map { TimingTolerance.format($0) } ?? "?") s")
        return rto
    }

    static func seconds(_ time: Int64?, from origin: Int64) -> Double? { time.map { Double($0 - origin) / 1_000_000 } }

    static let teardown = LabDefinition(
        "teardown", family: .teardown,
        summary: "Normal close: FIN, ACK, FIN, ACK and the states of both ends; when ACK and FIN merge",
        question: "TCP 四次挥手过程 / 能不能把服务器发送的 ACK 和 FIN 合并起来，变成三次挥手？(the four-way close; can it take three?)"
    ) { ctx in
        let lab = ctx.lab
        // 1. The server closes a second after accept: its ACK of the client's FIN goes alone.
        try lab.echoServer(["--close", "after:1s"])
        var fault = try ctx.faultproxy()
        let four = try lab.echoClient(["--close", "shutdown"])
        var observation = fault.wait(timeout: 2) { $0.firstTime(.server, entered: "CLOSED") != nil }
        observation = fault.stop()
        ctx.show(observation, "the server closes 1 s after accept: four segments")
        let kinds = observation.events.filter { [.fin, .finAck, .peerFin, .lastAck].contains($0.kind) }.map(\.kind.rawValue)
        ctx.expect("closing segments", expected: "fin, fin-ack, peer-fin, last-ack", observed: kinds.joined(separator: ", "))
        let client = observation.statePath(.client)
        let server = observation.statePath(.server)
        ctx.expect("active closer (client) passes FIN_WAIT2 into TIME_WAIT", client.contains("FIN_WAIT2") && client.last == "TIME_WAIT",
                   expected: "… FIN_WAIT2 → TIME_WAIT", observed: client.joined(separator: " → "))
        ctx.expect("passive closer (server) waits in CLOSE_WAIT, then is gone", server.contains("CLOSE_WAIT") && server.last == "CLOSED",
                   expected: "CLOSE_WAIT → (LAST_ACK) → CLOSED", observed: server.joined(separator: " → "))
        ctx.expect("the client's echo", expected: true, observed: four.echoOK)
        // 2. The server closes as soon as it reads EOF: its delayed ACK rides on its FIN.
        try lab.echoServer(port: 7002)
        fault = try ctx.faultproxy(port: 7002)
        _ = try lab.echoClient(port: 7002)
        observation = fault.wait(timeout: 1) { $0.segments(.lastAck).count > 0 }
        observation = fault.stop()
        ctx.show(observation, "the server closes on EOF: three segments")
        let merged = observation.events.filter { [.fin, .finAck, .peerFin, .lastAck].contains($0.kind) }.map(\.kind.rawValue)
        ctx.expect("closing segments", expected: "fin, peer-fin, last-ack", observed: merged.joined(separator: ", "))
        ctx.fact("the ACK of a FIN is delayed (it is not urgent); if the application closes within the delayed-ACK time the ACK rides on its FIN")
        ctx.notes(say: "四次挥手: the close always takes four segments (ACK, then FIN later)",
                  kernel: "four when the passive side closes later, three (FIN, FIN+ACK, ACK) when it closes at once",
                  agree: false)
    }

    static let finLost = LabDefinition(
        "fin-lost", family: .teardown,
        summary: "First teardown segment lost: the closer retransmits its FIN with backoff until tcp_orphan_retries",
        question: "第一次挥手丢失了，会发生什么？(the first teardown segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        try lab.echoServer()
        let fault = try ctx.faultproxy("fin")
        let client = try lab.echoClient()
        let rto = rto(ctx, client)
        let schedule = EstablishedRetransmissionModel.orphanedFin(rto: rto, parameters: ctx.kernel)
        try ctx.requireTime(schedule.giveUp + 2, for: "waiting for the orphaned FIN to give up")
        var observation = fault.wait(timeout: schedule.giveUp + 1.5) { $0.firstTime(.client, entered: "CLOSED") != nil }
        observation = fault.stop()
        ctx.show(observation, "every FIN from the client dropped (the client called close())")
        let retries = EstablishedRetransmissionModel.orphanRetries(sysctl: ctx.kernel.orphanRetries)
        ctx.fact("model: orphaned socket, \(ctx.kernel.describe(["tcp_orphan_retries"])) → \(retries) retries; give up once the time since the first FIN reaches tcp_model_timeout(\(retries), TCP_RTO_MIN) = \(TimingTolerance.format(RetransmissionModel.modelTimeout(boundary: retries, initialRTO: 0.2, maximumRTO: ctx.kernel.rtoMax))) s: FIN retransmissions at +\(ctx.list(schedule.retransmissions)) s, socket gone at +\(TimingTolerance.format(schedule.giveUp)) s")
        guard let origin = ctx.expectSchedule(observation, .fin, from: .client, schedule: schedule, label: "FIN") else { return }
        ctx.expect("FINs sent in all", expected: schedule.transmissions, observed: observation.segments(.fin, from: .client).count)
        let path = observation.statePath(.client)
        ctx.expect("client stays in FIN_WAIT1 until it gives up", Array(path.drop { $0 != "FIN_WAIT1" }) == ["FIN_WAIT1", "CLOSED"],
                   expected: "FIN_WAIT1 → CLOSED", observed: path.joined(separator: " → "))
        ctx.expectTime("client's socket is destroyed", expected: schedule.giveUp, observed: seconds(observation.firstTime(.client, entered: "CLOSED", after: origin), from: origin),
                       timers: schedule.timeouts + [0.005])
        ctx.expect("the server never learns of the close", expected: "ESTABLISHED", observed: observation.statePath(.server).last)
        ctx.notes(say: "(the notes leave this question empty)",
                  kernel: "the FIN is retransmitted on the RTO with exponential backoff; after close() tcp_orphan_retries (0 means 8) bounds it, after shutdown() tcp_retries2",
                  agree: true)
    }

    static let finAckLost = LabDefinition(
        "fin-ack-lost", family: .teardown,
        summary: "Second teardown segment lost: the ACK is not retransmitted; the FIN retransmission draws a new one",
        question: "第二次挥手丢失了，会发生什么？(the second teardown segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        try lab.echoServer(["--close", "after:1s"])
        let fault = try ctx.faultproxy("fin-ack:1")
        let client = try lab.echoClient(["--close", "shutdown"])
        let rto = rto(ctx, client)
        var observation = fault.wait(timeout: 2) { $0.segments(.lastAck).count > 0 }
        observation = fault.stop()
        ctx.show(observation, "the server's first ACK of the client's FIN dropped")
        let schedule = EstablishedRetransmissionModel.data(rto: rto, parameters: ctx.kernel)
        guard let origin = ctx.expectSchedule(observation, .fin, from: .client, schedule: schedule, label: "FIN", limit: 1) else { return }
        let acks = observation.segments(.finAck, from: .server)
        ctx.expect("server ACKs of the FIN", expected: 2, observed: acks.count)
        let fins = observation.segments(.fin, from: .client)
        if acks.count == 2, fins.count >= 2 {
            let lag = Double(acks[1].timeUnixMicroseconds - fins[1].timeUnixMicroseconds) / 1_000_000
            ctx.expectTime("the second ACK answers the retransmitted FIN", expected: 0, observed: lag, timers: [])
        }
        let entered = seconds(observation.firstTime(.client, entered: "FIN_WAIT2", after: origin), from: origin)
        ctx.expectTime("client enters FIN_WAIT2 after the FIN retransmission", expected: schedule.retransmissions[0], observed: entered,
                       timers: schedule.timeouts(untilRetransmission: 0) + [0.005])
        ctx.notes(say: "ACK 报文是不会有重传的: a lost ACK is not retransmitted; the peer retransmits what it acknowledged",
                  kernel: "the server sent \(acks.count) ACKs, the second only in answer to the retransmitted FIN", agree: true)
    }

    static let peerFinLost = LabDefinition(
        "peer-fin-lost", family: .teardown,
        summary: "Third teardown segment lost: LAST_ACK retransmits its FIN; FIN_WAIT2 lasts tcp_fin_timeout after close(), forever after shutdown()",
        question: "第三次挥手丢失了，会发生什么？(the third teardown segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        let finTimeout = Double(ctx.kernel.finTimeout)
        try ctx.requireTime(finTimeout * 2 + 4, for: "waiting out tcp_fin_timeout")
        // 1. close(): the client's FIN_WAIT2 is orphaned and bounded by tcp_fin_timeout.
        try lab.echoServer(["--close", "after:1s"])
        var fault = try ctx.faultproxy("peer-fin")
        let client = try lab.echoClient()
        let rto = rto(ctx, client)
        let serverFin = EstablishedRetransmissionModel.orphanedFin(rto: rto, parameters: ctx.kernel)
        var observation = fault.wait(timeout: max(finTimeout, 1 + serverFin.giveUp) + 1.5) {
            $0.firstTime(.client, entered: "CLOSED") != nil && $0.firstTime(.server, entered: "CLOSED") != nil
        }
        observation = fault.stop()
        ctx.show(observation, "every FIN from the server dropped; the client called close()")
        if let finWait2 = observation.firstTime(.client, entered: "FIN_WAIT2") {
            let gone = seconds(observation.firstTime(.client, entered: "CLOSED", after: finWait2), from: finWait2)
            ctx.expectTime("client's FIN_WAIT2 ends after tcp_fin_timeout", expected: CloseTimersModel.finWait2Length(finTimeout: ctx.kernel.finTimeout),
                           observed: gone, timers: [finTimeout, 0.005])
        } else {
            ctx.expect("client enters FIN_WAIT2", false, expected: "FIN_WAIT2", observed: observation.statePath(.client).joined(separator: " → "))
        }
        ctx.expectSchedule(observation, .peerFin, from: .server, schedule: serverFin, label: "server FIN (LAST_ACK)")
        ctx.expect("server path", observation.statePath(.server).suffix(2) == ["LAST_ACK", "CLOSED"],
                   expected: "… LAST_ACK → CLOSED", observed: observation.statePath(.server).joined(separator: " → "))
        // 2. shutdown(): the client still owns the socket, FIN_WAIT2 has no limit.
        try lab.echoServer(port: 7002, ["--close", "after:1s"])
        fault = try ctx.faultproxy("peer-fin", port: 7002)
        let holder = try lab.startClient(port: 7002, ["--close", "shutdown"])
        let waited = finTimeout + 2
        observation = fault.wait(timeout: waited) { _ in false }
        holder.stop()
        observation = fault.stop()
        ctx.show(observation, "every FIN from the server dropped; the client only called shutdown(SHUT_WR)")
        ctx.expect("after \(TimingTolerance.format(waited)) s the shut-down client is still in", expected: "FIN_WAIT2",
                   observed: observation.states(.client).filter { $0.timeUnixMicroseconds < (observation.events.last?.timeUnixMicroseconds ?? 0) + Int64(waited * 1_000_000) }.last?.state?.description)
        ctx.notes(say: "FIN_WAIT_2 waits for the peer's FIN (\"正常情况下 ... FIN_WAIT_2 状态可用netstat看到\")",
                  kernel: "after close() the kernel ends FIN_WAIT2 after tcp_fin_timeout (\(ctx.defaults.finTimeout) s by default) as a time-wait mini socket; after shutdown() it waits forever", agree: true)
    }

    static let lastAckLost = LabDefinition(
        "last-ack-lost", family: .teardown,
        summary: "Fourth teardown segment lost: the passive closer retransmits its FIN; TIME_WAIT answers and restarts its timer",
        question: "第四次挥手丢失了，会发生什么？(the last teardown segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        try lab.echoServer()
        let fault = try ctx.faultproxy("last-ack:1")
        let client = try lab.echoClient()
        let rto = rto(ctx, client)
        let schedule = EstablishedRetransmissionModel.orphanedFin(rto: rto, parameters: ctx.kernel)
        var observation = fault.wait(timeout: schedule.retransmissions[0] + 1) { $0.firstTime(.server, entered: "CLOSED") != nil }
        // The TIME_WAIT timer, read right after the retransmitted FIN was answered.
        let timeWait = try lab.timeWaitTimers().first { $0.remotePort == 7000 }
        let readAt = Int64(Date().timeIntervalSince1970 * 1_000_000)
        observation = fault.stop()
        ctx.show(observation, "the client's last ACK dropped once")
        guard let origin = ctx.expectSchedule(observation, .peerFin, from: .server, schedule: schedule, label: "server FIN", limit: 1) else { return }
        let lastAcks = observation.segments(.lastAck, from: .client)
        ctx.expect("the client (already in TIME_WAIT) ACKs again", expected: 2, observed: lastAcks.count)
        ctx.expect("server path", observation.statePath(.server).suffix(2) == ["LAST_ACK", "CLOSED"],
                   expected: "… LAST_ACK → CLOSED", observed: observation.statePath(.server).joined(separator: " → "))
        if let remaining = timeWait, lastAcks.count == 2 {
            let sinceRestart = Double(readAt - lastAcks[1].timeUnixMicroseconds) / 1_000_000
            let sinceFirst = Double(readAt - lastAcks[0].timeUnixMicroseconds) / 1_000_000
            ctx.fact("TIME_WAIT timer read \(TimingTolerance.format(sinceRestart)) s after the second ACK: \(TimingTolerance.format(remaining.seconds)) s left (without a restart it would be \(TimingTolerance.format(CloseTimersModel.timeWaitLength - sinceFirst)) s)")
            ctx.expectTime("TIME_WAIT timer restarted at the retransmitted FIN (60 s − time since)", expected: CloseTimersModel.timeWaitLength - sinceRestart,
                           observed: remaining.seconds, timers: [0.02], gap: sinceRestart)
        }
        _ = origin
        ctx.notes(say: "服务器会超时重传这个FIN-ACK，接着客户端再重传一次确认，重新启动时间等待计时器",
                  kernel: "the server's FIN came again after one RTO; the client in TIME_WAIT answered and its 60 s timer started over", agree: true)
    }

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
        let server = try SocketAddress(host: "127.0.0.1", port: 7000)
        let port = try SocketAddress(host: "127.0.0.1", port: 40000)
        // The client socket sets SO_REUSEADDR: Linux lets a bind share a port with a TIME_WAIT
        // socket only when both asked for it (inet_csk_bind_conflict; tw_reuse is copied at close).
        try lab.inside {
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
        let readAt = Int64(Date().timeIntervalSince1970 * 1_000_000)
        observation = fault.stop()
        ctx.show(observation, "a normal close, the client first")
        ctx.expect("the client closed first and is in", expected: "TIME_WAIT", observed: observation.statePath(.client).last)
        ctx.expect("the server (passive closer) has no TIME_WAIT", !observation.statePath(.server).contains("TIME_WAIT"),
                   expected: "no TIME_WAIT", observed: observation.statePath(.server).joined(separator: " → "))
        if let entered = observation.segments(.lastAck, from: .client).first?.timeUnixMicroseconds, let timer {
            let elapsed = Double(readAt - entered) / 1_000_000
            ctx.expectTime("TIME_WAIT timer (TCP_TIMEWAIT_LEN − time since)", expected: CloseTimersModel.timeWaitLength - elapsed, observed: timer.seconds, timers: [0.1])
        } else {
            ctx.expect("a TIME_WAIT socket in /proc/net/tcp", false, expected: "one on port 40000", observed: "none")
        }
        let plainBind = try lab.inside { () -> String in
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
        ctx.expect("bind() with SO_REUSEADDR, then connect() on the same 4-tuple (tcp_tw_reuse=0)", expected: "connected", observed: try lab.inside(connectFromTheSamePort))
        ctx.fact("an explicitly bound connect() takes over a TIME_WAIT with timestamps even with tcp_tw_reuse=0 (tcp_twsk_unique, twp == NULL); tcp_tw_reuse matters for automatically chosen ports")
        // SO_LINGER {1, 0}: close() sends RST and leaves no TIME_WAIT.
        fault = try ctx.faultproxy()
        let before = try lab.sockets(["state", "time-wait"]).count
        _ = try lab.echoClient(["--linger-reset", "--bind", "127.0.0.1:40002"])
        observation = fault.stop()
        ctx.show(observation, "SO_LINGER {1, 0}: close() resets")
        ctx.expect("close() with SO_LINGER {1,0} sends", expected: "rst", observed: observation.segments(from: .client).last?.kind.rawValue)
        ctx.expect("TIME_WAIT sockets on port 40002 after the reset close", expected: 0, observed: try lab.timeWaitTimers().filter { $0.localPort == 40002 }.count)
        _ = before
        ctx.notes(say: "客户端等待2MSL后 … 进入 CLOSED: TIME_WAIT lasts 2 MSL",
                  kernel: "Linux waits a fixed TCP_TIMEWAIT_LEN = 60 s, whatever the MSL; no sysctl changes it", agree: false)
    }

    static let timeWaitExhaustion = LabDefinition(
        "time-wait-exhaustion", family: .teardown,
        summary: "Short connections from a narrow port range: EADDRNOTAVAIL until tcp_tw_reuse frees ports; tcp_max_tw_buckets",
        question: "TIME_WAIT 过多有什么危害？/ 如何优化 TIME_WAIT？(too many TIME_WAITs, and the remedies)",
        sysctls: [("net.ipv4.tcp_tw_reuse", 0)],
        fastSysctls: [("net.ipv4.tcp_tw_reuse_delay", 100)]
    ) { ctx in
        let lab = ctx.lab
        try lab.namespace.setSysctl("net.ipv4.ip_local_port_range", "40000 40003")
        let ports = 4
        try lab.echoServer()
        let exhausted = try lab.echoClient(["--connections", "\(ports + 2)"])
        let timeWaits = try lab.sockets(["state", "time-wait"]).count
        ctx.expect("TIME_WAIT sockets after \(ports) connections from \(ports) ports", expected: ports, observed: timeWaits)
        ctx.expect("the next connect() fails", expected: "EADDRNOTAVAIL", observed: exhausted.error ?? "success")
        try lab.sysctl("net.ipv4.tcp_tw_reuse", 1)
        usleep(UInt32(CloseTimersModel.twReuseDelay(milliseconds: lab.hasSysctl("net.ipv4.tcp_tw_reuse_delay") ? try lab.sysctl("net.ipv4.tcp_tw_reuse_delay") : nil) * 1_000_000) + 50_000)
        let reused = try lab.echoClient(["--connections", "\(ports)"])
        ctx.expect("with tcp_tw_reuse=1, connections reuse TIME_WAIT ports", expected: "success", observed: reused.error ?? "success")
        try lab.sysctl("net.ipv4.tcp_tw_reuse", 0)
        try lab.sysctl("net.ipv4.tcp_max_tw_buckets", 0)
        try lab.namespace.setSysctl("net.ipv4.ip_local_port_range", "40010 40013")
        let unbounded = try lab.echoClient(["--connections", "\(ports * 2)"])
        ctx.expect("with tcp_max_tw_buckets=0 no TIME_WAIT is kept, \(ports * 2) connections from \(ports) ports", expected: "success", observed: unbounded.error ?? "success")
        ctx.fact("ip_local_port_range 40000–40003; connect() picks a free port and a TIME_WAIT on the same 4-tuple blocks it (EADDRNOTAVAIL) unless tcp_tw_reuse lets an outgoing connection take it over")
        ctx.notes(say: "TIME_WAIT 过多: ports run out", kernel: "confirmed: EADDRNOTAVAIL after \(timeWaits) connections; tcp_tw_reuse (\(ctx.defaults.twReuse) by default: loopback only) or tcp_max_tw_buckets relieve it", agree: true)
    }

    static let simultaneousClose = LabDefinition(
        "simultaneous-close", family: .teardown,
        summary: "Both ends close at once: FIN_WAIT1 → CLOSING → TIME_WAIT on both",
        question: "同时断开连接会发生什么？(both ends close at the same time)"
    ) { ctx in
        let lab = ctx.lab
        // Both FINs lost once: their retransmission timers fire in the same jiffy, so the FINs cross.
        let fault = try ctx.faultproxy("fin:1", "peer-fin:1")
        try lab.inside {
            let listener = try Socket.tcp(.ipv4)
            defer { listener.close() }
            try listener.setReuseAddress(true)
            try listener.bind(to: try SocketAddress(host: "127.0.0.1", port: 7000))
            try listener.listen(backlog: 4)
            let client = try Socket.tcp(.ipv4)
            try client.connect(to: try SocketAddress(host: "127.0.0.1", port: 7000))
            guard let (server, _) = try listener.accept() else { throw LabError.unexpected("accept() found nothing") }
            usleep(20_000)
            try client.shutdown(.write)
            try server.shutdown(.write)
            usleep(1_000_000)
            client.close()
            server.close()
        }
        var observation = fault.wait(timeout: 1.5) { $0.firstTime(.client, entered: "TIME_WAIT") != nil && $0.firstTime(.server, entered: "TIME_WAIT") != nil }
        observation = fault.stop()
        ctx.show(observation, "both sides shut down at once; each first FIN lost")
        let client = observation.statePath(.client)
        let server = observation.statePath(.server)
        // CLOSING lasts one loopback round trip, below the 5 ms poll: judge the crossing on the wire.
        // A FIN sent before the other side's FIN arrived acknowledges at most that FIN's sequence number.
        let clientFin = observation.segments(.fin, fate: .passed).first
        let serverFin = observation.segments(.peerFin, fate: .passed).first
        let crossed = clientFin.flatMap { c in serverFin.map { s in (c.acknowledgmentRelative ?? 0) <= s.sequenceRelative && (s.acknowledgmentRelative ?? 0) <= c.sequenceRelative } } ?? false
        ctx.expect("the two FINs crossed (neither acknowledges the other)", expected: true, observed: crossed)
        ctx.expect("both ends finish in TIME_WAIT", client.last == "TIME_WAIT" && server.last == "TIME_WAIT",
                   expected: "TIME_WAIT, TIME_WAIT", observed: "\(client.last ?? "?"), \(server.last ?? "?")")
        ctx.fact("state paths: client \(client.joined(separator: " → ")), server \(server.joined(separator: " → ")); each went FIN_WAIT1 → CLOSING (on receiving a FIN that does not ACK its own) → TIME_WAIT, CLOSING too brief for the poll")
        ctx.notes(say: "同时关闭是由ESTABLISHED->FIN_WAIT_1->CLOSING->TIME_WAIT->CLOSED", kernel: "FINs crossed and both ends ended in TIME_WAIT, as the notes say", agree: true)
    }

    static let closeWaitLeak = LabDefinition(
        "close-wait-leak", family: .teardown,
        summary: "The server never calls close(): CLOSE_WAIT piles up; each client leaves FIN_WAIT2 after tcp_fin_timeout",
        question: "服务器出现大量 CLOSE_WAIT 的连接的原因是什么？有什么解决方法？(many CLOSE_WAIT sockets on a server)"
    ) { ctx in
        let lab = ctx.lab
        let finTimeout = Double(ctx.kernel.finTimeout)
        try ctx.requireTime(finTimeout + 3, for: "waiting out tcp_fin_timeout")
        try lab.echoServer(["--close", "never"])
        let fault = try ctx.faultproxy()
        let clients = 3
        for _ in 0..<clients { _ = try lab.echoClient() }
        var observation = fault.wait(timeout: finTimeout + 1.5) { $0.states(.client).filter { $0.state == nil }.count >= clients }
        let closeWait = try lab.sockets(["state", "close-wait"]).count
        observation = fault.stop()
        ctx.show(observation, "\(clients) clients close; the server never does")
        ctx.expect("CLOSE_WAIT sockets on the server after tcp_fin_timeout", expected: clients, observed: closeWait)
        for connection in 0..<clients {
            let events = observation.segments(connection: connection)
            guard let port = events.first.flatMap({ UInt16($0.source.split(separator: ":").last ?? "") }) else { continue }
            let changes = observation.states(.client, localPort: port)
            if let entered = changes.first(where: { $0.state?.description == "FIN_WAIT2" })?.timeUnixMicroseconds {
                ctx.expectTime("client \(connection + 1) leaves FIN_WAIT2", expected: finTimeout,
                               observed: seconds(changes.first(where: { $0.state == nil && $0.timeUnixMicroseconds > entered })?.timeUnixMicroseconds, from: entered),
                               timers: [finTimeout, 0.005])
            }
        }
        ctx.notes(say: "CLOSE_WAIT 状态下，需要关闭连接: the application must close()",
                  kernel: "the kernel never ends CLOSE_WAIT by itself (no timer: \(closeWait) sockets stay); only the peer's FIN_WAIT2 expires", agree: true)
    }
}

/// The TIME_WAIT timer `ss -o` prints: "timer:(timewait,59sec,0)" or "timer:(timewait,59.872ms,0)".
struct TimeWaitTimer {
    var seconds: Double

    init?(ssLine line: String) {
        guard let range = line.range(of: "timer:(timewait,") else { return nil }
        let rest = line[range.upperBound...].prefix { $0 != "," && $0 != ")" }
        var value = 0.0
        var number = ""
        for character in rest {
            if character.isNumber || character == "." { number.append(character); continue }
            guard let amount = Double(number) else { continue }
            number = ""
            switch character {
            case "m": value += amount * 60
            case "s": value += amount
            default: break
            }
            if character == "s" { continue }
        }
        if rest.hasSuffix("ms"), let amount = Double(rest.dropLast(2).split(separator: "sec").last ?? "") {
            value = value - amount + amount / 1000
        }
        seconds = value
    }
}

extension Error {
    /// "EADDRINUSE" for a SystemCallError, else the description.
    var errnoName: String {
        let text = "\(self)"
        if let open = text.range(of: "(E", options: .backwards), let close = text[open.upperBound...].firstIndex(of: ")") {
            return "E" + text[open.upperBound..<close]
        }
        return text
    }
}
