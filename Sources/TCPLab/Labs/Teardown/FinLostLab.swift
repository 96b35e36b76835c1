import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let finLost = LabDefinition(
        "fin-lost", family: .teardown,
        summary: "First teardown segment lost: the closer retransmits its FIN with backoff until tcp_orphan_retries",
        question: "第一次挥手丢失了，会发生什么？(the first teardown segment is lost)"
    ) { ctx in
        let (fault, client) = try ctx.echoThroughFault(dropping: "fin")
        let schedule = orphanedFin(ctx, client)
        try ctx.requireTime(schedule.giveUp + 2, for: "waiting for the orphaned FIN to give up")
        var observation = fault.wait(timeout: ctx.waitLimit(schedule.giveUp, timers: schedule.timeouts)) { $0.firstTime(.client, entered: "CLOSED") != nil }
        observation = fault.stop()
        ctx.show(observation, "every FIN from the client dropped (the client called close())")
        let retries = EstablishedRetransmissionModel.orphanRetries(sysctl: ctx.kernel.orphanRetries)
        ctx.fact("model: orphaned socket, \(ctx.kernel.describe(["tcp_orphan_retries"])) → \(retries) retries; give up once the time since the first FIN reaches tcp_model_timeout(\(retries), TCP_RTO_MIN) = \(TimingTolerance.format(RetransmissionModel.modelTimeout(boundary: retries, initialRTO: 0.2, maximumRTO: ctx.kernel.rtoMax))) s: FIN retransmissions at +\(ctx.list(schedule.retransmissions)) s, socket gone at +\(TimingTolerance.format(schedule.giveUp)) s")
        guard let origin = ctx.expectSchedule(observation, .fin, from: .client, schedule: schedule, label: "FIN") else { return }
        ctx.expect("FINs sent in all", expected: schedule.transmissions, observed: observation.segments(.fin, from: .client).count)
        let path = observation.statePath(.client)
        ctx.expect("client stays in FIN_WAIT1 until it gives up", Array(path.drop { $0 != "FIN_WAIT1" }) == ["FIN_WAIT1", "CLOSED"],
                   expected: "FIN_WAIT1 → CLOSED", observed: path.joined(separator: " → "))
        ctx.expectTime("client's socket is destroyed (\(TimingTolerance.format(schedule.timeouts.last ?? 0)) s after the last FIN)",
                       after: ctx.lastOffset(observation, .fin, from: .client, origin: origin), timer: schedule.timeouts.last ?? 0,
                       observed: seconds(observation.firstTime(.client, entered: "CLOSED", after: origin), from: origin), resolution: 0.005, origin: origin)
        ctx.expect("the server never learns of the close", expected: "ESTABLISHED", observed: observation.statePath(.server).last)
        ctx.notes(say: "(the notes leave this question empty)",
                  kernel: "the FIN is retransmitted on the RTO with exponential backoff; after close() tcp_orphan_retries (0 means 8) bounds it, after shutdown() tcp_retries2",
                  agree: true)
    }
}
