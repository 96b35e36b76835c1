import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let serverDeadRetransmit = LabDefinition(
        "server-dead-retransmit", family: .failure,
        summary: "The server's host vanishes while the client sends: RTO backoff until tcp_retries2 gives ETIMEDOUT",
        question: "如果已经建立了连接，但是服务端突然出现故障了怎么办？(the server fails after the connection is up)"
    ) { ctx in
        try ServerDeadRetransmit.run(ctx)
    }
}

/// The three ways a server can fail under a client that has data to send:
/// 1. its host vanishes (every segment both ways black-holed) — the client retransmits on the
///    RTO with backoff until tcp_retries2's time limit, then read() fails with ETIMEDOUT;
/// 2. the same with TCP_USER_TIMEOUT on the client, which replaces tcp_retries2;
/// 3. only the server *process* dies (SIGKILL) — its kernel is alive, closes the socket with FIN
///    at once, and answers the client's next data with RST.
enum ServerDeadRetransmit: LabFamily {
    /// The client's TCP_USER_TIMEOUT in variant 2: a lab input, shorter than the fast profile's tcp_retries2 limit.
    static let userTimeout = 1.5
    /// How long the clients stay idle after connecting: enough to start faultproxy before they send.
    static let hold = 1.5
    /// A loopback RTT for budgeting before the client has measured one (TCP_INFO shows 25–75 µs here).
    static let loopbackRTT = 50e-6

    /// One client whose server host is black-holed.
    struct BlackHoled {
        var label: String
        var port: UInt16
        var userTimeout: Double?
        var process: LabProcess
    }

    static func run(_ ctx: LabContext) throws {
        let lab = ctx.lab
        // The schedule needs the measured RTT, known only afterwards: budget with a loopback RTT of
        // 50 µs (any RTT under a tick gives the same RTO, the floor plus one tick).
        let estimate = EstablishedRetransmissionModel.data(rto: EstablishedRetransmissionModel.rto(rtt: loopbackRTT, rtoMin: ctx.kernel.rtoMin), parameters: ctx.kernel)
        let retries2Fits = estimate.giveUp + hold + 4 <= ctx.profile.budgetSeconds
        if !retries2Fits {
            ctx.fact("tcp_retries2 variant not run: with \(ctx.kernel.describe(["tcp_retries2", "tcp_rto_max_ms"])) the client would give up after \(TimingTolerance.format(estimate.giveUp)) s, over the \(Int(ctx.profile.budgetSeconds)) s budget of the \(ctx.profile.rawValue) profile")
        }

        // 1 and 2: connect, stay idle, and black-hole the server's host before the clients send.
        if retries2Fits { try lab.echoServer(port: lab.port) }
        try lab.echoServer(port: lab.port(2))
        var clients: [BlackHoled] = []
        if retries2Fits {
            clients.append(BlackHoled(label: "tcp_retries2", port: lab.port, userTimeout: nil,
                                      process: try lab.startClient(port: lab.port, ["--hold", "\(hold)s"])))
        }
        clients.append(BlackHoled(label: "TCP_USER_TIMEOUT \(TimingTolerance.format(userTimeout)) s", port: lab.port(2), userTimeout: userTimeout,
                                  process: try lab.startClient(port: lab.port(2), ["--hold", "\(hold)s", "--user-timeout", "\(Int(userTimeout * 1000))ms"])))
        for client in clients {
            guard lab.wait(timeout: 5, until: { (try? lab.sockets(["state", "established", "dport", "= :\(client.port)"]).count) == 1 }) else {
                throw LabError.unexpected("the client on port \(client.port) did not connect: \(client.process.standardError)")
            }
        }
        // Both directions: nothing reaches the server's host and nothing comes back from it.
        let faults = try clients.map { try ctx.faultproxy("any", port: $0.port) }
        var measuredRTO = EstablishedRetransmissionModel.rto(rtt: loopbackRTT, rtoMin: ctx.kernel.rtoMin)
        for (client, fault) in zip(clients, faults) {
            measuredRTO = try judge(ctx, client, fault, timeout: hold + (client.userTimeout ?? estimate.giveUp) + 10)
        }

        try processCrash(ctx)

        let real = ctx.defaults
        // The defaults keep tcp_rto_min, so this connection's RTO carries over.
        let realSchedule = EstablishedRetransmissionModel.data(rto: measuredRTO, parameters: real)
        let realLimit = RetransmissionModel.modelTimeout(boundary: real.retries2, initialRTO: EstablishedRetransmissionModel.giveUpBaseRTO, maximumRTO: real.rtoMax)
        ctx.notes(say: "(the notes leave \"服务端突然出现故障了怎么办\" unanswered; their only rule for lost data:) 超时重传：当发送方发送数据之后，它将会启动一个定时器…如果在合理的往返时延（RTT）内为收到确认消息，那么对应的数据包就被假设为已丢失并进行重传",
                  kernel: "the timer is the RTO = srtt + max(rttvar, tcp_rto_min): 200 ms and more even for a loopback RTT of microseconds. The first resend is a tail-loss probe, then the RTO doubles up to tcp_rto_max. The client gives up by time, not by count: tcp_model_timeout(tcp_retries2, 200 ms) after the first RTO retransmission. With this kernel's defaults (\(real.describe(["tcp_retries2", "tcp_rto_min_us", "tcp_rto_max_ms"]))) that limit is \(TimingTolerance.format(realLimit)) s, so at this connection's RTO of \(TimingTolerance.format(measuredRTO)) s a dead server host costs the client \(realSchedule.retransmissions.count) retransmissions (the probe and \(realSchedule.retransmissions.count - 1) RTOs) and ETIMEDOUT after \(TimingTolerance.format(realSchedule.giveUp)) s (about \(Int((realSchedule.giveUp / 60).rounded())) minutes) unless TCP_USER_TIMEOUT is set. A crashed server process is different: its kernel sends FIN at once and RST to the next data",
                  agree: false)
    }

    /// Waits for the black-holed client to give up and judges its retransmissions against the model.
    /// Returns the RTO the model used.
    @discardableResult
    static func judge(_ ctx: LabContext, _ client: BlackHoled, _ fault: FaultProxyRun, timeout: Double) throws -> Double {
        let result = try ctx.lab.clientResult(client.process, timeout: timeout)
        let rto = rto(ctx, result)
        let schedule = EstablishedRetransmissionModel.data(rto: rto, parameters: ctx.kernel, userTimeout: client.userTimeout)
        var observation = fault.wait(timeout: 3) { $0.firstTime(.client, entered: "CLOSED") != nil }
        observation = fault.stop()
        ctx.show(observation, "\(client.label): every segment to and from the server's host dropped")
        let why = client.userTimeout.map { "TCP_USER_TIMEOUT \(TimingTolerance.format($0)) s counted from the first RTO retransmission, the last timer clamped to it" }
            ?? "tcp_model_timeout(\(ctx.kernel.describe(["tcp_retries2"])), TCP_RTO_MIN 0.2 s, \(ctx.kernel.describe(["tcp_rto_max_ms"]))) = \(TimingTolerance.format(RetransmissionModel.modelTimeout(boundary: ctx.kernel.retries2, initialRTO: EstablishedRetransmissionModel.giveUpBaseRTO, maximumRTO: ctx.kernel.rtoMax))) s counted from the first RTO retransmission"
        ctx.fact("\(client.label) model: tail-loss probe at +\(TimingTolerance.format(rto)) s, then RTO \(TimingTolerance.format(rto)) s doubling; give up after \(why): retransmissions at +\(ctx.list(schedule.retransmissions)) s, ETIMEDOUT at +\(TimingTolerance.format(schedule.giveUp)) s")
        let sent = observation.segments(.data, from: .client)
        ctx.expect("\(client.label): the client's first data segment is black-holed", sent.first?.fate == .dropped,
                   expected: "dropped", observed: sent.first.map { "\($0.fate)" } ?? "no data seen")
        guard let origin = sent.first?.timeUnixMicroseconds else { return rto }
        // Each timer counts from the transmission that armed it (see EstablishedRetransmissionModel.due).
        let offsets = observation.offsets(sent, from: origin)
        let due = EstablishedRetransmissionModel.due(schedule, transmissions: offsets, userTimeout: client.userTimeout)
        for (index, expected) in due.retransmissions.enumerated() {
            let timeout = schedule.timeouts[index]
            ctx.expectTime("\(client.label): data retransmission \(index + 1) (\(TimingTolerance.format(timeout)) s timer)", expected: expected ?? schedule.retransmissions[index],
                           observed: index + 1 < offsets.count ? offsets[index + 1] : nil, timers: [timeout])
        }
        ctx.expect("\(client.label): data segments sent in all", expected: schedule.transmissions, observed: sent.count)
        ctx.expect("\(client.label): the client's read fails with", expected: "ETIMEDOUT", observed: result.error)
        // The last timer, and for the user timeout the clamp's rounding up to a tick.
        let lastTimer = [schedule.timeouts.last ?? 0] + (client.userTimeout == nil ? [] : [KernelClock.tickSeconds])
        ctx.expectTime("\(client.label): client's socket closed (sock_diag)", expected: due.giveUp ?? schedule.giveUp,
                       observed: seconds(observation.firstTime(.client, entered: "CLOSED", after: origin), from: origin), timers: lastTimer, resolution: LabContext.pollResolution)
        // The application's view against the model's offset from the first transmission: every timer's lateness adds up here.
        ctx.expectTime("\(client.label): ETIMEDOUT after the client's first write (its own clock)", expected: schedule.giveUp,
                       observed: result.secondsFromFirstWriteToEnd, timers: schedule.timeouts)
        ctx.expect("\(client.label): TCP_INFO total_retrans", expected: schedule.retransmissions.count, observed: result.totalRetransmissions)
        ctx.expect("\(client.label): the server's host never hears of it", expected: "ESTABLISHED", observed: observation.statePath(.server).last)
        return rto
    }

    /// Only the server process dies: its kernel closes the connection (FIN), the client's next data draws RST.
    static func processCrash(_ ctx: LabContext) throws {
        let lab = ctx.lab
        let port = lab.port(4)
        let server = try lab.echoServer(port: port)
        let fault = try ctx.faultproxy(port: port)
        // Write-only: the first write succeeds (the client is in CLOSE_WAIT), the second reports the RST.
        let crashHold = min(1.0, Double(ctx.kernel.finTimeout) / 2)
        let process = try lab.startClient(port: port, ["--hold", "\(crashHold)s", "--send-only", "--count", "2", "--interval", "100ms"])
        guard lab.wait(timeout: 5, until: { (try? lab.sockets(["state", "established", "dport", "= :\(port)"]).count) == 1 }) else {
            throw LabError.unexpected("the client on port \(port) did not connect")
        }
        server.signal(SIGKILL)
        let result = try lab.clientResult(process, timeout: crashHold + 10)
        var observation = fault.wait(timeout: 3) { $0.firstTime(.client, entered: "CLOSED") != nil }
        observation = fault.stop()
        ctx.show(observation, "contrast: the server process is killed (SIGKILL), its host stays up")
        let fin = observation.segments(.fin, from: .server).first
        let data = observation.segments(.data, from: .client)
        let reset = observation.segments(.rst, from: .server).first
        ctx.expect("crash: the dead process's kernel sends FIN", fin != nil, expected: "FIN from the server", observed: fin?.summary ?? "none")
        let clientPath = Array(observation.statePath(.client).drop { $0 != "ESTABLISHED" })
        ctx.expect("crash: the client is in CLOSE_WAIT before it sends", clientPath == ["ESTABLISHED", "CLOSE_WAIT", "CLOSED"],
                   expected: "ESTABLISHED → CLOSE_WAIT → CLOSED", observed: clientPath.joined(separator: " → "))
        ctx.expect("crash: the client's first write is accepted", expected: 5, observed: result.sentBytes)
        guard let first = data.first, let reset else {
            ctx.expect("crash: the client's data draws RST", false, expected: "data, then RST from the server", observed: "\(data.count) data, \(reset == nil ? "no" : "a") RST")
            return
        }
        let answer = reset.timeUnixMicroseconds - first.timeUnixMicroseconds
        ctx.fact("crash: the RST left the server's kernel \(answer) µs after the client's data reached it; the client's srtt is \(Int(((result.rttSeconds ?? 0) * 1_000_000).rounded())) µs")
        ctx.expectTime("crash: RST answers the data after about one RTT (no timer)", expected: result.rttSeconds ?? 0,
                       observed: seconds(reset.timeUnixMicroseconds, from: first.timeUnixMicroseconds), timers: [])
        ctx.expect("crash: the RST's seq is the data's ack (sent for a segment, not by a socket)", expected: first.acknowledgmentRaw, observed: reset.sequenceRaw)
        ctx.expect("crash: data segments (no retransmission)", expected: 1, observed: data.count)
        ctx.expect("crash: the next write fails with (RST in CLOSE_WAIT)", expected: "EPIPE", observed: result.error)
        ctx.expect("crash: server side", observation.statePath(.server).suffix(2) == ["FIN_WAIT2", "CLOSED"],
                   expected: "… FIN_WAIT2 → CLOSED", observed: observation.statePath(.server).joined(separator: " → "))
    }
}
