import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let finAckLost = LabDefinition(
        "fin-ack-lost", family: .teardown,
        summary: "Second teardown segment lost: the ACK is not retransmitted; the FIN retransmission draws a new one",
        question: "第二次挥手丢失了，会发生什么？(the second teardown segment is lost)"
    ) { ctx in
        let (fault, client) = try ctx.echoThroughFault(server: ["--close", "after:1s"], dropping: "fin-ack:1", client: ["--close", "shutdown"])
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
        // The ACK of the retransmitted FIN moves it: no timer of its own after that FIN.
        let retransmitted = fins.count > 1 ? seconds(fins[1].timeUnixMicroseconds, from: origin) : nil
        ctx.expectTime("client enters FIN_WAIT2 as the retransmitted FIN is ACKed", expected: retransmitted ?? schedule.retransmissions[0],
                       observed: entered, timers: [], resolution: 0.005, origin: origin)
        ctx.notes(say: "ACK 报文是不会有重传的: a lost ACK is not retransmitted; the peer retransmits what it acknowledged",
                  kernel: "the server sent \(acks.count) ACKs, the second only in answer to the retransmitted FIN", agree: true)
    }
}
