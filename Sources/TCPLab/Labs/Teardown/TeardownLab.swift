import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let teardown = LabDefinition(
        "teardown", family: .teardown,
        summary: "Normal close: FIN, ACK, FIN, ACK and the states of both ends; when ACK and FIN merge",
        question: "TCP 四次挥手过程 / 能不能把服务器发送的 ACK 和 FIN 合并起来，变成三次挥手？(the four-way close; can it take three?)"
    ) { ctx in
        let lab = ctx.lab
        // 1. The server closes a second after accept: its ACK of the client's FIN goes alone.
        let (fault, four) = try ctx.echoThroughFault(server: ["--close", "after:1s"], client: ["--close", "shutdown"])
        var observation = fault.wait(timeout: 2) { $0.firstTime(.server, entered: "CLOSED") != nil }
        observation = fault.stop()
        ctx.show(observation, "the server closes 1 s after accept: four segments")
        let kinds = observation.events.filter { [.fin, .finAck, .peerFin, .lastAck].contains($0.kind) }.map(\.kind.rawValue)
        ctx.expect("closing segments", expected: "fin, fin-ack, peer-fin, last-ack", observed: kinds.joined(separator: ", "))
        let client = observation.statePath(.client)
        let server = observation.statePath(.server)
        ctx.expect("active closer (client) passes FIN_WAIT2 into TIME_WAIT", client.contains("FIN_WAIT2") && client.last == "TIME_WAIT",
                   expected: "… FIN_WAIT2 → TIME_WAIT", observed: client.joined(separator: " → "))
        ctx.expect("passive closer (server) waits in CLOSE_WAIT, then is gone", server.contains("CLOSE_WAIT") && server.last == "CLOSED",
                   expected: "CLOSE_WAIT → (LAST_ACK) → CLOSED", observed: server.joined(separator: " → "))
        ctx.expect("the client's echo", expected: true, observed: four.echoOK)
        // 2. The server closes as soon as it reads EOF: its delayed ACK rides on its FIN.
        let (onEOF, _) = try ctx.echoThroughFault(port: lab.port(2))
        observation = onEOF.wait(timeout: 1) { $0.segments(.lastAck).count > 0 }
        observation = onEOF.stop()
        ctx.show(observation, "the server closes on EOF: three segments")
        let merged = observation.events.filter { [.fin, .finAck, .peerFin, .lastAck].contains($0.kind) }.map(\.kind.rawValue)
        ctx.expect("closing segments", expected: "fin, peer-fin, last-ack", observed: merged.joined(separator: ", "))
        ctx.fact("the ACK of a FIN is delayed (it is not urgent); if the application closes within the delayed-ACK time the ACK rides on its FIN")
        ctx.notes(say: "四次挥手: the close always takes four segments (ACK, then FIN later)",
                  kernel: "four when the passive side closes later, three (FIN, FIN+ACK, ACK) when it closes at once",
                  agree: false)
    }
}
