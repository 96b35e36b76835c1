import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

/// Connection set-up: the handshake and what each lost segment does to it.
enum SetupLabs {
    static let all: [LabDefinition] = [handshake, synLost, synAckLost, ackLost, simultaneousOpen, acceptQueueFull, synQueueFull, oldDuplicateSyn]

    static let handshake = LabDefinition(
        "handshake", family: .setup,
        summary: "Normal three-way handshake: SYN, SYN-ACK, ACK, options and random ISNs",
        question: "TCP 为什么三次握手而不是两次握手 / TCP 三次握手过程 (why three handshakes, and what each carries)"
    ) { ctx in
        let lab = ctx.lab
        // The server closes first, so the client's port is free again and the same 4-tuple can connect twice.
        try lab.echoServer(["--close", "first"])
        let fault = try ctx.faultproxy()
        // The client idles a moment so the sockets' ESTABLISHED state outlasts the 5 ms sock_diag poll.
        let first = try lab.echoClient(["--bind", "127.0.0.1:40000", "--close", "wait-peer", "--hold", "0.1s"])
        let second = try lab.echoClient(["--bind", "127.0.0.1:40000", "--close", "wait-peer"])
        let observation = fault.stop()
        ctx.show(observation, "two connections on the same 4-tuple (127.0.0.1:40000 → 127.0.0.1:7000)")
        ctx.expect("both connections echoed", first.echoOK && second.echoOK, expected: "echo ok twice",
                   observed: "\(first.echoOK), \(second.echoOK) \(first.standardError)\(second.standardError)")
        let opening = observation.segments(connection: 0).prefix(3).map(\.kind.rawValue)
        ctx.expect("the first three segments", expected: "syn, synack, handshake-ack", observed: opening.joined(separator: ", "))
        let syn = observation.segments(.syn, from: .client, connection: 0).first
        let synAck = observation.segments(.synack, from: .server, connection: 0).first
        ctx.expect("SYN and SYN-ACK carry no data", (syn?.payloadBytes ?? 1) == 0 && (synAck?.payloadBytes ?? 1) == 0,
                   expected: "0 and 0 bytes", observed: "\(syn?.payloadBytes ?? -1) and \(synAck?.payloadBytes ?? -1) bytes")
        for (name, segment) in [("SYN", syn), ("SYN-ACK", synAck)] {
            guard let segment else { continue }
            ctx.expect("\(name) options: MSS, window scale, SACK permitted, timestamps",
                       segment.maximumSegmentSizeBytes != nil && segment.windowScale != nil && segment.sackPermitted == true && segment.timestampValue != nil,
                       expected: "mss, wscale, sackOK, TS", observed: segment.options.joined(separator: ", "))
        }
        let clientISNs = [0, 1].compactMap { observation.segments(.syn, from: .client, connection: $0).first?.sequenceRaw }
        let serverISNs = [0, 1].compactMap { observation.segments(.synack, from: .server, connection: $0).first?.sequenceRaw }
        ctx.expect("client ISNs of the two connections differ", clientISNs.count == 2 && clientISNs[0] != clientISNs[1],
                   expected: "two different numbers", observed: clientISNs.map(String.init).joined(separator: " vs "))
        ctx.expect("server ISNs of the two connections differ", serverISNs.count == 2 && serverISNs[0] != serverISNs[1],
                   expected: "two different numbers", observed: serverISNs.map(String.init).joined(separator: " vs "))
        ctx.fact("ISNs: client \(clientISNs.map(String.init).joined(separator: " then ")), server \(serverISNs.map(String.init).joined(separator: " then ")) (secure_tcp_seq: a keyed hash of the 4-tuple plus a 64 ns clock; a SYN answered from TIME_WAIT gets the old snd_nxt + 65537)")
        if let ack = observation.segments(.handshakeAck, from: .client, connection: 0).first {
            ctx.fact("the third segment carried \(ack.payloadBytes) bytes: Linux sends the handshake ACK on its own and the data in the next segment (data may ride on it only with TCP Fast Open)")
        }
        let clientPath = observation.statePath(.client)
        let serverPath = observation.statePath(.server)
        ctx.expect("client reaches ESTABLISHED", clientPath.contains("ESTABLISHED"), expected: "… ESTABLISHED …", observed: clientPath.joined(separator: " → "))
        ctx.expect("server reaches ESTABLISHED", serverPath.contains("ESTABLISHED"), expected: "… ESTABLISHED …", observed: serverPath.joined(separator: " → "))
        ctx.fact("SYN_SENT and SYN_RECV last one loopback round trip (microseconds), shorter than the 5 ms sock_diag poll; syn-lost and ack-lost show them; the server closes first here, so it is the one in TIME_WAIT")
        ctx.notes(say: "ISN \"随机生成seq，本例默认为0\" — the example numbers start at 0",
                  kernel: "the wire carries random 32-bit ISNs (\(clientISNs.first.map(String.init) ?? "?")); 0 is only the relative number tools print",
                  agree: true)
    }

    static let synLost = LabDefinition(
        "syn-lost", family: .setup,
        summary: "First handshake segment lost: SYN retransmissions on tcp_syn_retries, then ETIMEDOUT",
        question: "第一次握手丢失了，会发生什么？(the first handshake segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        let kernel = ctx.kernel
        let schedule = kernel.syn
        try ctx.requireTime(schedule.giveUp + 2, for: "waiting for connect() to time out")
        try lab.echoServer()
        var fault = try ctx.faultproxy("syn")
        let failed = try lab.echoClient()
        var observation = fault.stop()
        ctx.show(observation, "every SYN dropped")
        ctx.fact("model (\(kernel.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts", "tcp_rto_max_ms"]))): retransmissions at +\(ctx.list(schedule.retransmissions)) s, ETIMEDOUT at +\(TimingTolerance.format(schedule.giveUp)) s")
        ctx.expectSchedule(observation, .syn, from: .client, schedule: schedule, label: "SYN")
        let syns = observation.segments(.syn, from: .client)
        ctx.expect("SYNs sent in all", expected: schedule.transmissions, observed: syns.count)
        ctx.expect("every SYN repeats the same sequence number", Set(syns.map(\.sequenceRaw)).count == 1,
                   expected: "one ISN", observed: "\(Set(syns.map(\.sequenceRaw)).count) distinct")
        ctx.expect("connect() fails", expected: "ETIMEDOUT", observed: failed.error ?? "success")
        ctx.expectTime("connect() returns ETIMEDOUT", expected: schedule.giveUp, observed: failed.connectSeconds, timers: schedule.timeouts)

        fault = try ctx.faultproxy("syn:1")
        let late = try lab.echoClient()
        observation = fault.stop()
        ctx.show(observation, "only the first SYN dropped")
        ctx.expect("with one SYN lost, connect() succeeds", expected: "success", observed: late.error ?? "success")
        ctx.expectTime("connect() returns after one lost SYN", expected: schedule.retransmissions[0], observed: late.connectSeconds,
                       timers: schedule.timeouts(untilRetransmission: 0))

        let real = ctx.defaults.syn
        ctx.notes(say: "tcp_syn_retries defaults to 5; timeouts 1, 2, 4, 8, 16 s, then 32 s more: 1+2+4+8+16+32 = 63 s",
                  kernel: "this kernel's defaults (\(ctx.defaults.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts"]))) retransmit at +\(ctx.list(real.retransmissions)) s and give up at +\(TimingTolerance.format(real.giveUp)) s",
                  agree: real.giveUp == 63)
    }

    static let synAckLost = LabDefinition(
        "synack-lost", family: .setup,
        summary: "Second handshake segment lost: client retransmits SYN, server retransmits SYN-ACK (tcp_synack_retries)",
        question: "第二次握手丢失了，会发生什么？(the second handshake segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        let kernel = ctx.kernel
        let syn = kernel.syn
        let listener = RetransmissionModel.synAck(synackRetries: kernel.synackRetries, duplicateSyns: syn.retransmissions, maximumRTO: kernel.rtoMax)
        try ctx.requireTime(max(syn.giveUp, listener.giveUp) + 2, for: "waiting for both sides to give up")
        try lab.echoServer()
        let fault = try ctx.faultproxy("synack")
        let client = try lab.echoClient()
        _ = fault.wait(timeout: max(0, listener.giveUp - syn.giveUp) + 1.5) { $0.firstTime(.server, entered: "CLOSED") != nil }
        let observation = fault.stop()
        ctx.show(observation, "every SYN-ACK dropped")
        ctx.fact("model: client SYN retransmissions at +\(ctx.list(syn.retransmissions)) s, ETIMEDOUT at +\(TimingTolerance.format(syn.giveUp)) s")
        ctx.fact("model: each repeated SYN draws a SYN-ACK at once (+\(ctx.list(listener.answers)) s) and restarts the request timer (tcp_check_req), so the timer's own SYN-ACKs come at +\(ctx.list(listener.timerRetransmissions)) s and the request is dropped at +\(TimingTolerance.format(listener.giveUp)) s, not at the +\(TimingTolerance.format(kernel.synAck.giveUp)) s that tcp_synack_retries=\(kernel.synackRetries) alone gives")
        guard let origin = ctx.expectSchedule(observation, .syn, from: .client, schedule: syn, label: "client SYN") else { return }
        ctx.expect("connect() fails", expected: "ETIMEDOUT", observed: client.error ?? "success")
        ctx.expectTime("client's connect() returns ETIMEDOUT", expected: syn.giveUp, observed: client.connectSeconds, timers: syn.timeouts)
        let synAcks = observation.offsets(observation.segments(.synack, from: .server), from: origin)
        ctx.expect("SYN-ACKs sent in all", expected: 1 + listener.answers.count + listener.timerRetransmissions.count, observed: synAcks.count)
        for (index, at) in listener.timerRetransmissions.enumerated() {
            let nearest = synAcks.min { abs($0 - at) < abs($1 - at) }
            ctx.expectTime("server SYN-ACK from the request timer \(index + 1)", expected: at, observed: nearest,
                           timers: Array(syn.timeouts.prefix(syn.retransmissions.count)) + Array(listener.timeouts.prefix(index + 1)))
        }
        let gone = observation.firstTime(.server, entered: "CLOSED", after: origin).map { Double($0 - origin) / 1_000_000 }
        ctx.expectTime("server drops its SYN_RECV request", expected: listener.giveUp, observed: gone,
                       timers: Array(syn.timeouts.prefix(syn.retransmissions.count)) + listener.timeouts + [0.005])
        let real = (ctx.defaults.syn, ctx.defaults.synAck)
        ctx.notes(say: "tcp_syn_retries and tcp_synack_retries both default to 5; each side retransmits its own segment",
                  kernel: "defaults here are \(ctx.defaults.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts", "tcp_synack_retries"])): the client gives up at +\(TimingTolerance.format(real.0.giveUp)) s, the server's request at +\(TimingTolerance.format(real.1.giveUp)) s; both sides retransmit, and the server sends extra SYN-ACKs for each repeated SYN",
                  agree: ctx.defaults.synRetries == 5 && ctx.defaults.synackRetries == 5)
    }

    static let ackLost = LabDefinition(
        "ack-lost", family: .setup,
        summary: "Third handshake segment lost: server stays SYN_RECV and retransmits SYN-ACK until data or give-up",
        question: "第三次握手丢失了，会发生什么？(the third handshake segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        let synAck = ctx.kernel.synAck
        try ctx.requireTime(synAck.giveUp + 2, for: "waiting for the server's SYN-ACK retries to run out")
        try lab.echoServer()
        // 1. The client writes after the first SYN-ACK retransmission: its data carries the ACK.
        let hold = synAck.retransmissions[0] + 1.5
        var fault = try ctx.faultproxy("handshake-ack")
        let talker = try lab.echoClient(["--hold", "\(hold)s"])
        var observation = fault.stop()
        ctx.show(observation, "every handshake ACK dropped; the client writes after \(TimingTolerance.format(hold)) s")
        guard let origin = ctx.expectSchedule(observation, .synack, from: .server, schedule: synAck, label: "server SYN-ACK", limit: 1) else { return }
        let serverPath = observation.statePath(.server)
        ctx.expect("server waits in SYN_RECV", serverPath.first == "SYN_RECV", expected: "SYN_RECV → …", observed: serverPath.joined(separator: " → "))
        let clientPath = observation.statePath(.client)
        ctx.expect("client is ESTABLISHED at once", clientPath.first == "ESTABLISHED" || clientPath.prefix(2).contains("ESTABLISHED"),
                   expected: "ESTABLISHED", observed: clientPath.joined(separator: " → "))
        // The server echoes only once established; its ESTABLISHED may be shorter than the 5 ms poll before it closes.
        let echoed = observation.segments(.data, from: .server).first.map { Double($0.timeUnixMicroseconds - origin) / 1_000_000 }
        ctx.expectTime("server established by the client's first data (its echo)", expected: hold, observed: echoed, timers: [0.01])
        let acks = observation.segments(.handshakeAck, from: .client).count
        let synAcks = observation.segments(.synack, from: .server).count
        ctx.expect("client ACKs only in answer to SYN-ACKs (never on a timer)", expected: synAcks, observed: acks)
        ctx.expect("the echo works", expected: true, observed: talker.echoOK)

        // 2. The client stays silent past the server's give-up, then writes.
        let silence = synAck.giveUp + 1
        fault = try ctx.faultproxy("handshake-ack")
        let silent = try lab.echoClient(["--hold", "\(silence)s"])
        observation = fault.stop()
        ctx.show(observation, "every handshake ACK dropped; the client writes after \(TimingTolerance.format(silence)) s")
        if let start = observation.segments(.syn, from: .client).first?.timeUnixMicroseconds {
            let gone = observation.firstTime(.server, entered: "CLOSED", after: start).map { Double($0 - start) / 1_000_000 }
            ctx.expectTime("server gives up on the request", expected: synAck.giveUp, observed: gone, timers: synAck.timeouts + [0.005])
        }
        ctx.expect("the server answers the late data with", expected: "rst", observed: observation.segments(from: .server).last?.kind.rawValue)
        ctx.expect("the client's write/read fails", expected: "ECONNRESET", observed: silent.error ?? "success")
        ctx.notes(say: "ACK 报文是不会有重传的: a lost ACK is never retransmitted by itself; the server retransmits SYN-ACK up to tcp_synack_retries",
                  kernel: "the client sent \(acks) ACKs for \(synAcks) SYN-ACKs — only as answers; data completes the handshake; after the retries the request is gone and late data draws RST",
                  agree: true)
    }

    static let simultaneousOpen = LabDefinition(
        "simultaneous-open", family: .setup,
        summary: "Both ends connect to each other at once: SYN_SENT → SYN_RECV → ESTABLISHED on both, four SYN segments",
        question: "建立连接同时打开，会发送什么？(both ends open at the same time)"
    ) { ctx in
        let lab = ctx.lab
        // Both first SYNs lost: the two retransmission timers expire in the same jiffy, so the
        // repeated SYNs cross on the wire and each socket meets the other's SYN in SYN_SENT.
        // "any": faultproxy names the side that sends to port 7000 the client, so "syn" would only catch one of the two SYNs.
        let dropper = try ctx.faultproxy("any")
        let outcome = OutcomeBox()
        let namespace = lab.namespace.name
        let thread = Thread {
            do {
                try NetworkNamespace.enter(named: namespace)
                outcome.set(try SimultaneousOpen.run())
            } catch {
                outcome.set("\(error)")
            }
        }
        thread.start()
        // Both SYN_SENT timers were armed within a millisecond; swap the dropper for a watcher
        // before they fire at +1 s, in the same timer-wheel bucket, so the repeated SYNs cross.
        usleep(400_000)
        _ = dropper.stop()
        let fault = try ctx.faultproxy()
        var observation = fault.wait(timeout: 2.5) { _ in outcome.value != nil }
        observation = fault.stop()
        let result = outcome.value ?? "still running"
        ctx.show(observation, "40000 and 7000 connect to each other; both first SYNs lost (not shown), the repeated SYNs cross")
        ctx.expect("both connect() calls succeed", expected: "ok ok", observed: result)
        let synCarrying = observation.events.filter { $0.flags.contains("S") && $0.fate == .passed }
        ctx.expect("SYN-carrying segments that crossed (two SYN, two SYN-ACK)", expected: "S, S, S., S.",
                   observed: synCarrying.map(\.flags).sorted { $0.count < $1.count }.joined(separator: ", "))
        ctx.fact("state paths: 40000 \(observation.statePath(.client).joined(separator: " → ")); 7000 \(observation.statePath(.server).joined(separator: " → ")) (SYN_RECV lasts one loopback round trip, often shorter than the 5 ms poll)")
        ctx.notes(say: "同时两端的状态变化都是由CLOSED->SYN_SENT->SYN_RCVD->ESTABLISHED",
                  kernel: "each end answers the other's SYN with a SYN-ACK from SYN_SENT (tcp_rcv_synsent_state_process) and both reach ESTABLISHED", agree: true)
    }

    static let acceptQueueFull = LabDefinition(
        "accept-queue-full", family: .setup,
        summary: "Full accept queue: the final ACK is dropped and SYN-ACK retransmitted (tcp_abort_on_overflow=0), or RST (=1)",
        question: "半连接队列和全连接队列：全连接队列满了会怎样？(a full accept queue)"
    ) { ctx in
        throw LabSkip("not built yet: the second client's request never showed a SYN-ACK retransmission in the timeline, so the overflow choreography (backlog 0, first ACK lost) needs more work")
    }

    static let synQueueFull = LabDefinition(
        "syn-queue-full", family: .setup,
        summary: "SYN queue under a burst of SYNs that never complete: SYN_RECV entries bounded by the backlog, then SYN cookies",
        question: "半连接队列满了会怎样？SYN 攻击与 tcp_syncookies (a full SYN queue)"
    ) { ctx in
        let lab = ctx.lab
        let backlog = 4
        let burst = 10
        for (cookies, port) in [(1, UInt16(7000)), (0, UInt16(7002))] {
            try lab.sysctl("net.ipv4.tcp_syncookies", cookies)
            try lab.echoServer(port: port, ["--backlog", "\(backlog)"])
            let sent = try lab.counter("TcpExt", "SyncookiesSent")
            let drops = try lab.counter("TcpExt", "TCPReqQFullDrop")
            // Every SYN-ACK is lost, so no handshake completes and each request stays in SYN_RECV.
            let fault = try ctx.faultproxy("synack", port: port)
            let clients = try (0..<burst).map { _ in try lab.startClient(port: port, ["--connect-timeout", "1.5s"]) }
            usleep(700_000)
            let halfOpen = try lab.sockets(["state", "syn-recv", "sport", "= :\(port)"]).count
            let cookiesSent = try lab.counter("TcpExt", "SyncookiesSent") - sent
            let fullDrops = try lab.counter("TcpExt", "TCPReqQFullDrop") - drops
            for client in clients { client.stop() }
            fault.stop()
            // reqsk queue is full when its length exceeds the listen backlog (inet_csk_reqsk_queue_is_full).
            ctx.expect("SYN_RECV entries with backlog \(backlog), tcp_syncookies=\(cookies)", expected: backlog + 1, observed: halfOpen)
            if cookies == 1 {
                ctx.expect("SYN cookies answer the SYNs beyond the queue", cookiesSent >= burst - backlog - 1, expected: "≥ \(burst - backlog - 1)", observed: "\(cookiesSent)")
            } else {
                ctx.expect("the rest are dropped (TCPReqQFullDrop)", fullDrops >= burst - backlog - 1, expected: "≥ \(burst - backlog - 1)", observed: "\(fullDrops)")
            }
        }
        ctx.notes(say: "半连接队列 is sized by tcp_max_syn_backlog",
                  kernel: "the SYN queue is bounded by the listen backlog (min(backlog, somaxconn)); tcp_max_syn_backlog (\(ctx.defaults.maxSynBacklog)) only reserves its last quarter for proven peers when cookies are off", agree: false)
    }

    static let oldDuplicateSyn = LabDefinition(
        "old-duplicate-syn", family: .setup,
        summary: "Why three handshakes: a delayed duplicate SYN makes the server answer; the client resets the stale SYN-ACK",
        question: "TCP 为什么三次握手而不是两次握手：防止已失效的连接请求 (an old duplicate SYN)"
    ) { ctx in
        let lab = ctx.lab
        try lab.echoServer()
        let probe = try? lab.faultproxy(drops: [], options: ["--duplicate", "syn:1=1s"])
        guard let fault = probe else {
            throw LabSkip("needs faultproxy --duplicate (NFQUEUE re-injection), which this faultproxy/kernel cannot install yet")
        }
        let client = try lab.echoClient(["--bind", "127.0.0.1:40000"])
        var observation = fault.wait(timeout: 2) { $0.segments(.rst, from: .client).count > 0 }
        observation = fault.stop()
        ctx.show(observation, "the first SYN passes and a copy arrives 1 s later, after the connection closed")
        ctx.expect("the first connection works", expected: true, observed: client.echoOK)
        let duplicate = observation.segments(.syn, from: .client).last?.timeUnixMicroseconds ?? .max
        let answered = observation.segments(.synack, from: .server).contains { $0.timeUnixMicroseconds > duplicate }
        ctx.expect("the server cannot tell the copy is stale: it answers with a SYN-ACK", expected: true, observed: answered)
        let resets = observation.segments(.rst).filter { $0.timeUnixMicroseconds > duplicate }
        ctx.expect("an RST ends the stale attempt", resets.count >= 1, expected: "≥ 1 RST", observed: "\(resets.count) (\(resets.map(\.from.rawValue).joined(separator: ", ")))")
        let established = observation.transitions.filter { $0.timeUnixMicroseconds > duplicate && $0.state?.description == "ESTABLISHED" }.count
        ctx.expect("connections established from the stale SYN", expected: 0, observed: established)
        ctx.fact("here the client's 4-tuple is in TIME_WAIT when the stale SYN-ACK arrives: TIME_WAIT answers with its old ACK, whose number the server's request rejects with RST; a client in SYN_SENT would send the RST itself (the notes' picture). Either way the third segment is what lets the client refuse")
        ctx.notes(say: "防止已失效的连接请求又传送到服务器端，因而产生错误", kernel: "the server answered the stale SYN like a new one; only the third step (the client's reply) stopped it: RST, no connection", agree: true)
    }
}

/// Two sockets that connect to each other at once (simultaneous-open), inside the namespace.
enum SimultaneousOpen {
    static func run() throws -> String {
        let a = try Socket.tcp(.ipv4, nonBlocking: true)
        let b = try Socket.tcp(.ipv4, nonBlocking: true)
        defer { a.close(); b.close() }
        try a.setReuseAddress(true)
        try b.setReuseAddress(true)
        let addressA = try SocketAddress(host: "127.0.0.1", port: 40000)
        let addressB = try SocketAddress(host: "127.0.0.1", port: 7000)
        try a.bind(to: addressA)
        try b.bind(to: addressB)
        for (socket, peer) in [(a, addressB), (b, addressA)] {
            do {
                try socket.connect(to: peer)
            } catch {
                if error.errno != .nowInProgress { throw error }
            }
        }
        usleep(1_800_000)
        return "\(outcome(a)) \(outcome(b))"
    }

    static func outcome(_ socket: Socket) -> String {
        let pending: Errno?
        do { pending = try socket.pendingError() } catch { return "\(error)" }
        return pending.map { "\($0)" } ?? "ok"
    }
}

final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ text: String) { lock.withLock { stored = text } }
    var value: String? { lock.withLock { stored } }
}
