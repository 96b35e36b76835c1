import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let peerFinLost = LabDefinition(
        "peer-fin-lost", family: .teardown,
        summary: "Third teardown segment lost: LAST_ACK retransmits its FIN; FIN_WAIT2 lasts tcp_fin_timeout after close(), forever after shutdown()",
        question: "第三次挥手丢失了，会发生什么？(the third teardown segment is lost)"
    ) { ctx in
        let lab = ctx.lab
        let finTimeout = try requireFinTimeout(ctx, times: 2, margin: 4)
        // 1. close(): the client's FIN_WAIT2 is orphaned and bounded by tcp_fin_timeout.
        let (fault, client) = try ctx.echoThroughFault(server: ["--close", "after:1s"], dropping: "peer-fin")
        let serverFin = orphanedFin(ctx, client)
        var observation = fault.wait(timeout: max(ctx.waitLimit(finTimeout, timers: [finTimeout]), ctx.waitLimit(1 + serverFin.giveUp, timers: serverFin.timeouts))) {
            $0.firstTime(.client, entered: "CLOSED") != nil && $0.firstTime(.server, entered: "CLOSED") != nil
        }
        observation = fault.stop()
        ctx.show(observation, "every FIN from the server dropped; the client called close()")
        if let finWait2 = observation.firstTime(.client, entered: "FIN_WAIT2") {
            let gone = seconds(observation.firstTime(.client, entered: "CLOSED", after: finWait2), from: finWait2)
            ctx.expectTime("client's FIN_WAIT2 ends after tcp_fin_timeout", expected: CloseTimersModel.finWait2Length(finTimeout: ctx.kernel.finTimeout),
                           observed: gone, timers: [finTimeout], resolution: LabContext.pollResolution)
        } else {
            ctx.expect("client enters FIN_WAIT2", false, expected: "FIN_WAIT2", observed: observation.statePath(.client).joined(separator: " → "))
        }
        ctx.expectSchedule(observation, .peerFin, from: .server, schedule: serverFin, label: "server FIN (LAST_ACK)")
        ctx.expect("server path", observation.statePath(.server).suffix(2) == ["LAST_ACK", "CLOSED"],
                   expected: "… LAST_ACK → CLOSED", observed: observation.statePath(.server).joined(separator: " → "))
        // 2. shutdown(): the client still owns the socket, FIN_WAIT2 has no limit.
        try lab.echoServer(port: lab.port(2), ["--close", "after:1s"])
        let shutdownFault = try ctx.faultproxy("peer-fin", port: lab.port(2))
        let holder = try lab.startClient(port: lab.port(2), ["--close", "shutdown"])
        let waited = finTimeout + 2
        observation = shutdownFault.wait(timeout: waited) { _ in false }
        holder.stop()
        observation = shutdownFault.stop()
        ctx.show(observation, "every FIN from the server dropped; the client only called shutdown(SHUT_WR)")
        ctx.expect("after \(TimingTolerance.format(waited)) s the shut-down client is still in", expected: "FIN_WAIT2",
                   observed: observation.states(.client).filter { $0.timeUnixMicroseconds < (observation.events.last?.timeUnixMicroseconds ?? 0) + Int64(waited * 1_000_000) }.last?.state?.description)
        ctx.notes(say: "FIN_WAIT_2 waits for the peer's FIN (\"正常情况下 ... FIN_WAIT_2 状态可用netstat看到\")",
                  kernel: "after close() the kernel ends FIN_WAIT2 after tcp_fin_timeout (\(ctx.defaults.finTimeout) s by default) as a time-wait mini socket; after shutdown() it waits forever", agree: true)
    }
}
