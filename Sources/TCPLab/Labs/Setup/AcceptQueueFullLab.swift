import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
    static let acceptQueueFull = LabDefinition(
        "accept-queue-full", family: .setup,
        summary: "Full accept queue: a new SYN is dropped outright; an ACK completing an earlier request is dropped and the SYN-ACK retransmitted (tcp_abort_on_overflow=0), or answered with RST (=1)",
        question: "半连接队列和全连接队列：全连接队列满了会怎样？(a full accept queue)"
    ) { ctx in
        let synAck = ctx.kernel.synAck
        try ctx.requireTime(synAck.giveUp + 4, for: "waiting for the overflowing request's SYN-ACK retries to run out")
        let somaxconn = try ctx.lab.sysctl("net.core.somaxconn")
        let capacity = AcceptQueueModel.capacity(backlog: AcceptQueueOverflow.backlog, somaxconn: somaxconn)
        ctx.fact("listen(\(AcceptQueueOverflow.backlog)) with somaxconn \(somaxconn): sk_max_ack_backlog \(AcceptQueueModel.maximumBacklog(backlog: AcceptQueueOverflow.backlog, somaxconn: somaxconn)); the queue is full when it holds more than that (sk_acceptq_is_full), so it holds \(capacity)")
        try AcceptQueueOverflow.ackDropped(ctx, somaxconn: somaxconn)
        try AcceptQueueOverflow.ackReset(ctx, somaxconn: somaxconn)
    }
}

/// The choreography: the server listens with backlog 1 and never accepts. Client B connects
/// first, and faultproxy drops its handshake ACK, so B is ESTABLISHED while the server keeps a
/// request in SYN_RECV. Fillers then complete handshakes (their data carries the ACK that
/// faultproxy's `handshake-ack:1` takes from every connection) until the accept queue is full.
/// When the request timer retransmits B's SYN-ACK, B answers with an ACK that now overflows.
/// A latecomer connecting to the full queue shows what happens to a new SYN.
enum AcceptQueueOverflow {
    static let backlog = 1

    struct Run {
        var observation: Observation
        var queue: ListenerQueue?
        var requestsWhileFull: Int
        var counters: ListenCounters
        var before: ListenCounters
        var late: ClientResult?
        var b: ClientResult
        var bPort: UInt16
        var latePort: UInt16
    }

    static func run(_ ctx: LabContext, port: UInt16, abortOnOverflow: Int, clientPorts: UInt16, hold: Double,
                    lateConnectTimeout: Double?, capacity: Int) throws -> Run {
        let lab = ctx.lab
        try lab.sysctl("net.ipv4.tcp_abort_on_overflow", abortOnOverflow)
        try lab.echoServer(port: port, ["--backlog", "\(backlog)", "--accept", "never"])
        let fault = try ctx.faultproxy("handshake-ack:1", port: port)
        let before = try ListenCounters.read(lab)
        let bPort = clientPorts
        let b = try lab.startClient(port: port, ["--bind", "\(lab.clientAddress):\(bPort)", "--hold", "\(hold)s"])
        fault.wait(timeout: 2) { $0.segments(.handshakeAck, from: .client, fate: .dropped).contains { $0.source.hasSuffix(":\(bPort)") } }
        // The fillers send at once: their data segment completes the handshake faultproxy's rule broke.
        var fillers: [LabProcess] = []
        defer { fillers.forEach { $0.stop() } }
        for index in 1...capacity {
            fillers.append(try lab.startClient(port: port, ["--bind", "\(lab.clientAddress):\(bPort + UInt16(index))"]))
        }
        lab.wait(timeout: 0.8) { (try? lab.listenerQueue(port: port))?.waiting == capacity }
        let queue = try lab.listenerQueue(port: port)
        let requests = try lab.requests(port: port)
        let latePort = bPort + 9
        let late = try lateConnectTimeout.map {
            try lab.echoClient(port: port, ["--bind", "\(lab.clientAddress):\(latePort)", "--connect-timeout", "\($0)s"], timeout: $0 + 5)
        }
        let bResult = try lab.clientResult(b, timeout: hold + 10)
        let after = try ListenCounters.read(lab)
        let observation = fault.stop()
        return Run(observation: observation, queue: queue, requestsWhileFull: requests, counters: after - before, before: before,
                   late: late, b: bResult, bPort: bPort, latePort: latePort)
    }

    /// tcp_abort_on_overflow=0: B's ACK is dropped, its request lives on until the SYN-ACK retries run out.
    static func ackDropped(_ ctx: LabContext, somaxconn: Int) throws {
        let synAck = ctx.kernel.synAck
        let syn = ctx.kernel.syn
        let capacity = AcceptQueueModel.capacity(backlog: backlog, somaxconn: somaxconn)
        // B writes only after its request is gone: one second past the give-up covers the
        // request timer's wheel lateness (≤ 0.32 s for 1+2+4 s).
        // Past the request's expiry even when its last timer fires as late as the wheel allows.
        let hold = ctx.waitLimit(synAck.giveUp, timers: synAck.timeouts, margin: 0.5)
        let lateTimeout = (syn.retransmissions.dropFirst().first ?? syn.retransmissions.first ?? 1) + 0.5
        let run = try run(ctx, port: ctx.lab.port, abortOnOverflow: 0, clientPorts: 41000, hold: hold, lateConnectTimeout: lateTimeout, capacity: capacity)
        let observation = run.observation
        ctx.show(observation, "tcp_abort_on_overflow=0, backlog \(backlog), never accept(): B (\(run.bPort)) loses its handshake ACK, \(capacity) fillers fill the queue, a latecomer (\(run.latePort)) connects")
        ctx.expect("accept queue once the fillers are in (ss -lt)", expected: ListenerQueue(waiting: capacity, backlog: backlog), observed: run.queue)
        ctx.expect("B's request still in SYN_RECV while the queue is full", expected: 1, observed: run.requestsWhileFull)

        // The latecomer: its SYN meets the full queue (tcp_conn_request), no request, no SYN-ACK.
        let lateFate = AcceptQueueModel.synFate(acceptQueue: capacity, requests: 1, backlog: backlog, somaxconn: somaxconn, syncookies: ctx.kernel.syncookies)
        let lateSyns = AcceptQueueModel.synsSent(syn, within: lateTimeout)
        if let lateConnection = observation.connection(clientPort: run.latePort) {
            ctx.expect("latecomer: SYN-ACKs from the server (model: \(lateFate.rawValue))", expected: 0,
                       observed: observation.segments(.synack, from: .server, connection: lateConnection).count)
            ctx.expectSchedule(observation, .syn, from: .client, schedule: syn, connection: lateConnection,
                               label: "latecomer's SYN (dropped at the full queue)", limit: lateSyns - 1)
        } else {
            ctx.expect("latecomer's SYNs on the timeline", false, expected: "\(lateSyns)", observed: "none")
        }
        ctx.expect("latecomer's connect() after \(TimingTolerance.format(lateTimeout)) s", expected: "ETIMEDOUT", observed: run.late?.error ?? "success")

        // B: the request timer keeps retransmitting the SYN-ACK; each answer overflows.
        let ackFate = AcceptQueueModel.completingAck(acceptQueue: capacity, backlog: backlog, somaxconn: somaxconn, abortOnOverflow: 0)
        guard let bConnection = observation.connection(clientPort: run.bPort) else {
            ctx.expect("B on the timeline", false, expected: "its handshake", observed: "nothing")
            return
        }
        ctx.fact("model: B's ACK at a full queue → \(ackFate.rawValue); the request keeps tcp_synack_retries=\(ctx.kernel.synackRetries): SYN-ACK at +\(ctx.list(synAck.retransmissions)) s, dropped at +\(TimingTolerance.format(synAck.giveUp)) s")
        guard let origin = ctx.expectSchedule(observation, .synack, from: .server, schedule: synAck, connection: bConnection,
                                              label: "B's SYN-ACK") else { return }
        ctx.expect("SYN-ACKs to B in all (first + tcp_synack_retries)", expected: synAck.transmissions,
                   observed: observation.segments(.synack, from: .server, connection: bConnection).count)
        let answers = observation.segments(.handshakeAck, from: .client, connection: bConnection, fate: .passed)
        ctx.expect("B's ACKs to the retransmitted SYN-ACKs (each dropped by the full queue)", expected: synAck.retransmissions.count, observed: answers.count)
        ctx.expectTime("B's request dropped when the SYN-ACK retries run out (\(TimingTolerance.format(synAck.timeouts.last ?? 0)) s after its last SYN-ACK)",
                       after: seconds(observation.segments(.synack, from: .server, connection: bConnection).last?.timeUnixMicroseconds, from: origin),
                       timer: synAck.timeouts.last ?? 0,
                       observed: seconds(observation.serverClosed(clientPort: run.bPort, after: origin), from: origin), resolution: LabContext.pollResolution, origin: origin)
        // The sock_diag poll may catch B's brief SYN_SENT; what matters is ESTABLISHED at once, until the RST.
        let bPath = observation.statePath(.client, localPort: run.bPort).drop { $0 == "SYN_SENT" }
        let connected = run.b.connectSeconds.map { $0 < (synAck.retransmissions.first ?? synAck.giveUp) } ?? false
        ctx.expect("B's client meanwhile (connect() returned before any SYN-ACK retransmission)",
                   connected && Array(bPath) == ["ESTABLISHED", "CLOSED"],
                   expected: "ESTABLISHED → CLOSED", observed: bPath.joined(separator: " → ") + ", connect() \(run.b.connectSeconds.map { TimingTolerance.format($0) } ?? "?") s")
        ctx.expect("B's data after \(TimingTolerance.format(hold)) s draws", expected: "rst",
                   observed: observation.segments(from: .server, connection: bConnection).last?.kind.rawValue)
        ctx.expect("B's read", expected: "ECONNRESET", observed: run.b.error ?? "success")

        // Counters: every dropped SYN and every overflowing ACK.
        let overflows = lateSyns + synAck.retransmissions.count
        ctx.fact("TcpExt before: \(run.before); change: \(run.counters)")
        ctx.expect("ListenOverflows: \(lateSyns) latecomer SYNs + \(synAck.retransmissions.count) ACKs from B", expected: overflows, observed: run.counters.overflows)
        ctx.expect("ListenDrops (the same drops)", expected: overflows, observed: run.counters.drops)
        ctx.fact("with backlog 0 (the queue holds 1) and one client already queued, a second client's SYN is dropped like the latecomer's: no request exists, so there is no SYN-ACK to retransmit — the dropped-ACK case needs B's SYN to arrive while the queue still has room (checked by hand with tcpdump on 6.18: backlog 0, one client queued, the next one only retransmits its SYN)")

        ctx.notes(say: "全连接队列满, tcp_abort_on_overflow=0: the server drops the client's final ACK and retransmits its SYN-ACK",
                  kernel: "only for a request admitted while the queue had room: B's ACK was dropped \(answers.count)× (request marked acked) and the SYN-ACK went on at +\(ctx.list(synAck.retransmissions)) s until the request expired at +\(TimingTolerance.format(synAck.giveUp)) s; B, ESTABLISHED all along, learned only when its data drew RST",
                  agree: true)
        ctx.notes(say: "a new connection to a full accept queue gets a SYN-ACK and loses its final ACK",
                  kernel: "its SYN is dropped before any request exists (tcp_conn_request checks the accept queue; ListenOverflows + ListenDrops): no SYN-ACK at all, the client retransmits its SYN and connect() times out",
                  agree: false)
    }

    /// tcp_abort_on_overflow=1: B's ACK draws RST and the request is removed.
    static func ackReset(_ ctx: LabContext, somaxconn: Int) throws {
        let synAck = ctx.kernel.synAck
        let capacity = AcceptQueueModel.capacity(backlog: backlog, somaxconn: somaxconn)
        guard let firstRetransmission = synAck.retransmissions.first else {
            throw LabSkip("tcp_synack_retries=0: no SYN-ACK retransmission to draw B's overflowing ACK")
        }
        let hold = firstRetransmission + 1
        let run = try run(ctx, port: ctx.lab.port(2), abortOnOverflow: 1, clientPorts: 41100, hold: hold, lateConnectTimeout: nil, capacity: capacity)
        let observation = run.observation
        ctx.show(observation, "tcp_abort_on_overflow=1: the same, without the latecomer")
        ctx.expect("accept queue once the fillers are in (abort_on_overflow=1)", expected: ListenerQueue(waiting: capacity, backlog: backlog), observed: run.queue)
        let fate = AcceptQueueModel.completingAck(acceptQueue: capacity, backlog: backlog, somaxconn: somaxconn, abortOnOverflow: 1)
        guard let bConnection = observation.connection(clientPort: run.bPort),
              let origin = observation.segments(.syn, from: .client, connection: bConnection).first?.timeUnixMicroseconds else {
            ctx.expect("B on the timeline (abort_on_overflow=1)", false, expected: "its handshake", observed: "nothing")
            return
        }
        let reset = observation.segments(.rst, from: .server, connection: bConnection).first?.timeUnixMicroseconds
        ctx.expectTime("model \(fate.rawValue): RST for B's ACK to the first SYN-ACK retransmission", expected: firstRetransmission,
                       observed: seconds(reset, from: origin), timers: [synAck.timeouts[0]])
        ctx.expect("SYN-ACKs to B in all (the RST ends the request)", expected: 2,
                   observed: observation.segments(.synack, from: .server, connection: bConnection).count)
        ctx.expect("B's write after \(TimingTolerance.format(hold)) s", expected: "ECONNRESET", observed: run.b.error ?? "success")
        ctx.fact("TcpExt before: \(run.before); change: \(run.counters)")
        ctx.expect("ListenOverflows / ListenDrops / EmbryonicRsts for B's one ACK", expected: "1/1/1",
                   observed: "\(run.counters.overflows)/\(run.counters.drops)/\(run.counters.embryonicResets)")
        ctx.notes(say: "tcp_abort_on_overflow=1: the client gets RST",
                  kernel: "RST at +\(seconds(reset, from: origin).map { TimingTolerance.format($0) } ?? "?") s, in answer to the ACK that met the full queue (tcp_check_req → embryonic_reset); B's next write fails with \(run.b.error ?? "nothing")",
                  agree: true)
    }

    static func seconds(_ time: Int64?, from origin: Int64) -> Double? { SetupLabs.seconds(time, from: origin) }
}
