import Foundation
import TCPLabFault
import TCPLabObserve
import SystemPackage
import TCPLabSystem

extension SetupLabs {
    static let synAckLost = LabDefinition(
        "synack-lost", family: .setup,
        summary: "Second handshake segment lost: client retransmits SYN, server retransmits SYN-ACK (tcp_synack_retries)",
        question: "第二次握手丢失了，会发生什么？(the second handshake segment is lost)"
    ) { ctx in
        let kernel = ctx.kernel
        let syn = kernel.syn
        let listener = RetransmissionModel.synAck(synackRetries: kernel.synackRetries, duplicateSyns: syn.retransmissions, maximumRTO: kernel.rtoMax)
        try ctx.requireTime(max(syn.giveUp, listener.giveUp) + 2, for: "waiting for both sides to give up")
        let (fault, client) = try ctx.echoThroughFault(dropping: "synack")
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
        judgeRequestTimers(ctx, observation, origin: origin, synackRetries: kernel.synackRetries, maximumRTO: kernel.rtoMax)
        let real = (ctx.defaults.syn, ctx.defaults.synAck)
        ctx.notes(say: "tcp_syn_retries and tcp_synack_retries both default to 5; each side retransmits its own segment",
                  kernel: "defaults here are \(ctx.defaults.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts", "tcp_synack_retries"])): the client gives up at +\(TimingTolerance.format(real.0.giveUp)) s, the server's request at +\(TimingTolerance.format(real.1.giveUp)) s; both sides retransmit, and the server sends extra SYN-ACKs for each repeated SYN",
                  agree: ctx.defaults.synRetries == 5 && ctx.defaults.synackRetries == 5)
    }

    /// Each request-timer SYN-ACK judged from the SYN-ACK that armed the timer (the one before it
    /// in the same request), and the drop from the last one (ListenerSynAckReplay).
    static func judgeRequestTimers(_ ctx: LabContext, _ observation: Observation, origin: Int64, synackRetries: Int, maximumRTO: Double) {
        func offset(_ event: TimelineEvent) -> Double { Double(event.timeUnixMicroseconds - origin) / 1_000_000 }
        let segments = observation.segments(.syn, from: .client).map { ListenerSynAckReplay.Segment.syn(at: offset($0)) }
            + observation.segments(.synack, from: .server).map { ListenerSynAckReplay.Segment.synAck(at: offset($0), sequence: $0.sequenceRaw) }
        let replay = ListenerSynAckReplay.replay(segments, maximumRTO: maximumRTO)
        for event in replay.timerSynAcks {
            ctx.expectTime("request \(event.request + 1): SYN-ACK from its timer (expiry \(event.expiry), \(TimingTolerance.format(event.timer)) s after the SYN-ACK before it)",
                           after: event.anchor, timer: event.timer, observed: event.observed, origin: origin)
        }
        ctx.expect("request-timer SYN-ACKs per request (tcp_synack_retries each)", expected: Array(repeating: synackRetries, count: replay.timerSynAcksPerRequest.count).description,
                   observed: replay.timerSynAcksPerRequest.description)
        // The last request (a late SYN may open a new one) is gone only after the client's last SYN.
        let lastSyn = observation.segments(.syn, from: .client).last?.timeUnixMicroseconds ?? origin
        let gone = observation.firstTime(.server, entered: "CLOSED", after: lastSyn).map { Double($0 - origin) / 1_000_000 }
        if let giveUp = replay.giveUp {
            ctx.expectTime("server drops request \(giveUp.request + 1) (\(TimingTolerance.format(giveUp.timer)) s after its last SYN-ACK)",
                           after: giveUp.anchor, timer: giveUp.timer, observed: gone, resolution: LabContext.pollResolution, origin: origin)
        }
    }
}
