import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let lastAckLost = LabDefinition(
        "last-ack-lost", family: .teardown,
        summary: "Fourth teardown segment lost: the passive closer retransmits its FIN; TIME_WAIT answers and restarts its timer",
        question: "第四次挥手丢失了，会发生什么？(the last teardown segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        let (fault, client) = try ctx.echoThroughFault(dropping: "last-ack:1")
        let schedule = orphanedFin(ctx, client)
        var observation = fault.wait(timeout: schedule.retransmissions[0] + 1) { $0.firstTime(.server, entered: "CLOSED") != nil }
        // The TIME_WAIT timer, read right after the retransmitted FIN was answered.
        let timeWait = try lab.timeWaitTimers().first { $0.remotePort == lab.port }
        let readAt = timeWait?.readAtUnixMicroseconds ?? Int64(Date().timeIntervalSince1970 * 1_000_000)
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
                           observed: remaining.seconds, timers: [], resolution: 0.02)
        }
        _ = origin
        ctx.notes(say: "服务器会超时重传这个FIN-ACK，接着客户端再重传一次确认，重新启动时间等待计时器",
                  kernel: "the server's FIN came again after one RTO; the client in TIME_WAIT answered and its 60 s timer started over", agree: true)
    }
}
