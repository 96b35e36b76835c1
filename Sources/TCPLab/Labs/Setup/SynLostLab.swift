import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
    static let synLost = LabDefinition(
        "syn-lost", family: .setup,
        summary: "First handshake segment lost: SYN retransmissions on tcp_syn_retries, then ETIMEDOUT",
        question: "第一次握手丢失了，会发生什么？(the first handshake segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        let kernel = ctx.kernel
        let schedule = kernel.syn
        try ctx.requireTime(schedule.giveUp + 2, for: "waiting for connect() to time out")
        let (fault, failed) = try ctx.echoThroughFault(dropping: "syn")
        var observation = fault.stop()
        ctx.show(observation, "every SYN dropped")
        ctx.fact("model (\(kernel.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts", "tcp_rto_max_ms"]))): retransmissions at +\(ctx.list(schedule.retransmissions)) s, ETIMEDOUT at +\(TimingTolerance.format(schedule.giveUp)) s")
        let origin = ctx.expectSchedule(observation, .syn, from: .client, schedule: schedule, label: "SYN")
        let syns = observation.segments(.syn, from: .client)
        ctx.expect("SYNs sent in all", expected: schedule.transmissions, observed: syns.count)
        ctx.expect("every SYN repeats the same sequence number", Set(syns.map(\.sequenceRaw)).count == 1,
                   expected: "one ISN", observed: "\(Set(syns.map(\.sequenceRaw)).count) distinct")
        ctx.expect("connect() fails", expected: "ETIMEDOUT", observed: failed.error ?? "success")
        // The give-up timer is armed by the last SYN; connect() started with the first (the client's clock, µs apart).
        ctx.expectTime("connect() returns ETIMEDOUT (\(TimingTolerance.format(schedule.timeouts.last ?? 0)) s after the last SYN)",
                       after: origin.flatMap { ctx.lastOffset(observation, .syn, from: .client, origin: $0) },
                       timer: schedule.timeouts.last ?? 0, observed: failed.connectSeconds, origin: origin)

        let oneLost = try ctx.faultproxy("syn:1")
        let late = try lab.echoClient()
        observation = oneLost.stop()
        ctx.show(observation, "only the first SYN dropped")
        ctx.expect("with one SYN lost, connect() succeeds", expected: "success", observed: late.error ?? "success")
        ctx.expectTime("connect() returns after one lost SYN", expected: schedule.retransmissions[0], observed: late.connectSeconds,
                       timers: schedule.timeouts(untilRetransmission: 0))

        let real = ctx.defaults.syn
        ctx.notes(say: "tcp_syn_retries defaults to 5; timeouts 1, 2, 4, 8, 16 s, then 32 s more: 1+2+4+8+16+32 = 63 s",
                  kernel: "this kernel's defaults (\(ctx.defaults.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts"]))) retransmit at +\(ctx.list(real.retransmissions)) s and give up at +\(TimingTolerance.format(real.giveUp)) s",
                  agree: real.giveUp == 63)
    }
}
