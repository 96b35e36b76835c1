import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
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
        _ = fault.wait(timeout: ctx.waitLimit(listener.giveUp - syn.giveUp, timers: listener.timeouts)) { $0.firstTime(.server, entered: "CLOSED") != nil }
        let observation = fault.stop()
        ctx.show(observation, "every SYN-ACK dropped")
        ctx.fact("model: client SYN retransmissions at +\(ctx.list(syn.retransmissions)) s, ETIMEDOUT at +\(TimingTolerance.format(syn.giveUp)) s")
        ctx.fact("model: each repeated SYN draws a SYN-ACK at once (+\(ctx.list(listener.answers)) s) and restarts the request timer (tcp_check_req), so the timer's own SYN-ACKs come at +\(ctx.list(listener.timerRetransmissions)) s and the request is dropped at +\(TimingTolerance.format(listener.giveUp)) s, not at the +\(TimingTolerance.format(kernel.synAck.giveUp)) s that tcp_synack_retries=\(kernel.synackRetries) alone gives")
        guard let origin = ctx.expectSchedule(observation, .syn, from: .client, schedule: syn, label: "client SYN") else { return }
        ctx.expect("connect() fails", expected: "ETIMEDOUT", observed: client.error ?? "success")
        ctx.expectTime("client's connect() returns ETIMEDOUT (\(TimingTolerance.format(syn.timeouts.last ?? 0)) s after the last SYN)",
                       after: ctx.lastOffset(observation, .syn, from: .client, origin: origin), timer: syn.timeouts.last ?? 0,
                       observed: client.connectSeconds, origin: origin)
        let synAcks = observation.offsets(observation.segments(.synack, from: .server), from: origin)
        if listener.requests.count > 1 {
            ctx.fact("model: the request expires in the same tick as the client's SYN at +\(ctx.list(Array(listener.requests.dropFirst()))) s; the expiry runs first, so that SYN finds no request and opens a new one (a new ISN, a fresh SYN-ACK schedule)")
        }
        ctx.expect("SYN-ACKs sent in all", expected: listener.synAckCount, observed: synAcks.count)
        // Each timer SYN-ACK is judged from the SYN-ACK before it, which armed (or re-armed) the request timer.
        for (index, at) in listener.timerRetransmissions.enumerated() {
            let nearest = synAcks.indices.min { abs(synAcks[$0] - at) < abs(synAcks[$1] - at) }
            let timer = listener.timerLengths[index]
            ctx.expectTime("server SYN-ACK from the request timer \(index + 1) (\(TimingTolerance.format(timer)) s after the SYN-ACK before it)",
                           after: nearest.flatMap { $0 > 0 ? synAcks[$0 - 1] : nil }, timer: timer,
                           observed: nearest.map { synAcks[$0] }, origin: origin)
        }
        // The last request (a late SYN may open a new one) is gone only after the client's last SYN.
        let lastSyn = observation.segments(.syn, from: .client).last?.timeUnixMicroseconds ?? origin
        let gone = observation.firstTime(.server, entered: "CLOSED", after: lastSyn).map { Double($0 - origin) / 1_000_000 }
        ctx.expectTime("server drops its SYN_RECV request (\(TimingTolerance.format(listener.giveUpTimer)) s after the last SYN-ACK)",
                       after: synAcks.last, timer: listener.giveUpTimer, observed: gone, origin: origin)
        let real = (ctx.defaults.syn, ctx.defaults.synAck)
        ctx.notes(say: "tcp_syn_retries and tcp_synack_retries both default to 5; each side retransmits its own segment",
                  kernel: "defaults here are \(ctx.defaults.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts", "tcp_synack_retries"])): the client gives up at +\(TimingTolerance.format(real.0.giveUp)) s, the server's request at +\(TimingTolerance.format(real.1.giveUp)) s; both sides retransmit, and the server sends extra SYN-ACKs for each repeated SYN",
                  agree: ctx.defaults.synRetries == 5 && ctx.defaults.synackRetries == 5)
    }
}
