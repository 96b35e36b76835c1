import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
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
        ctx.expectTime("server established by the client's first data (its echo)", expected: hold, observed: echoed, timers: [], resolution: 0.01)
        let acks = observation.segments(.handshakeAck, from: .client).count
        let synAcks = observation.segments(.synack, from: .server).count
        ctx.expect("client ACKs only in answer to SYN-ACKs (never on a timer)", expected: synAcks, observed: acks)
        ctx.expect("the echo works", expected: true, observed: talker.echoOK)

        // 2. The client stays silent past the server's give-up, then writes.
        // Past the request's expiry even when its last timer fires as late as the wheel allows.
        let silence = ctx.waitLimit(synAck.giveUp, timers: synAck.timeouts, margin: 0.5)
        fault = try ctx.faultproxy("handshake-ack")
        let silent = try lab.echoClient(["--hold", "\(silence)s"])
        observation = fault.stop()
        ctx.show(observation, "every handshake ACK dropped; the client writes after \(TimingTolerance.format(silence)) s")
        if let start = observation.segments(.syn, from: .client).first?.timeUnixMicroseconds {
            let gone = observation.firstTime(.server, entered: "CLOSED", after: start).map { Double($0 - start) / 1_000_000 }
            let lastSynAck = observation.segments(.synack, from: .server).last.map { Double($0.timeUnixMicroseconds - start) / 1_000_000 }
            ctx.expectTime("server gives up on the request (\(TimingTolerance.format(synAck.timeouts.last ?? 0)) s after its last SYN-ACK)",
                           after: lastSynAck, timer: synAck.timeouts.last ?? 0, observed: gone, resolution: LabContext.pollResolution, origin: start)
        }
        ctx.expect("the server answers the late data with", expected: "rst", observed: observation.segments(from: .server).last?.kind.rawValue)
        ctx.expect("the client's write/read fails", expected: "ECONNRESET", observed: silent.error ?? "success")
        ctx.notes(say: "ACK 报文是不会有重传的: a lost ACK is never retransmitted by itself; the server retransmits SYN-ACK up to tcp_synack_retries",
                  kernel: "the client sent \(acks) ACKs for \(synAcks) SYN-ACKs — only as answers; data completes the handshake; after the retries the request is gone and late data draws RST",
                  agree: true)
    }
}
