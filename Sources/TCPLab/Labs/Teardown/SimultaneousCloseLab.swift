import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let simultaneousClose = LabDefinition(
        "simultaneous-close", family: .teardown,
        summary: "Both ends close at once: FIN_WAIT1 → CLOSING → TIME_WAIT on both",
        question: "同时断开连接会发生什么？(both ends close at the same time)"
    ) { ctx in
        let lab = ctx.lab
        // Both FINs lost once: their retransmission timers fire in the same jiffy, so the FINs cross.
        let fault = try ctx.faultproxy("fin:1", "peer-fin:1")
        // Each socket is opened on its own host (on loopback both in the one namespace).
        let serverAddress = try SocketAddress(host: lab.serverAddress, port: lab.port)
        let listener = try lab.inside(.server) { () throws -> Socket in
            let listener = try Socket.tcp(.ipv4)
            try listener.setReuseAddress(true)
            try listener.bind(to: serverAddress)
            try listener.listen(backlog: 4)
            return listener
        }
        defer { listener.close() }
        let client = try lab.inside(.client) { try Socket.tcp(.ipv4) }
        try client.connect(to: serverAddress)
        guard let (server, _) = try listener.accept() else { throw LabError.unexpected("accept() found nothing") }
        usleep(20_000)
        try client.shutdown(.write)
        try server.shutdown(.write)
        usleep(1_000_000)
        client.close()
        server.close()
        var observation = fault.wait(timeout: 1.5) { $0.firstTime(.client, entered: "TIME_WAIT") != nil && $0.firstTime(.server, entered: "TIME_WAIT") != nil }
        observation = fault.stop()
        ctx.show(observation, "both sides shut down at once; each first FIN lost")
        let clientPath = observation.statePath(.client)
        let serverPath = observation.statePath(.server)
        // CLOSING lasts one loopback round trip, below the 5 ms poll: judge the crossing on the wire.
        // A FIN sent before the other side's FIN arrived acknowledges at most that FIN's sequence number.
        let clientFin = observation.segments(.fin, fate: .passed).first
        let serverFin = observation.segments(.peerFin, fate: .passed).first
        let crossed = clientFin.flatMap { c in serverFin.map { s in (c.acknowledgmentRelative ?? 0) <= s.sequenceRelative && (s.acknowledgmentRelative ?? 0) <= c.sequenceRelative } } ?? false
        ctx.expect("the two FINs crossed (neither acknowledges the other)", expected: true, observed: crossed)
        ctx.expect("both ends finish in TIME_WAIT", clientPath.last == "TIME_WAIT" && serverPath.last == "TIME_WAIT",
                   expected: "TIME_WAIT, TIME_WAIT", observed: "\(clientPath.last ?? "?"), \(serverPath.last ?? "?")")
        ctx.fact("state paths: client \(clientPath.joined(separator: " → ")), server \(serverPath.joined(separator: " → ")); each went FIN_WAIT1 → CLOSING (on receiving a FIN that does not ACK its own) → TIME_WAIT, CLOSING too brief for the poll")
        ctx.notes(say: "同时关闭是由ESTABLISHED->FIN_WAIT_1->CLOSING->TIME_WAIT->CLOSED", kernel: "FINs crossed and both ends ended in TIME_WAIT, as the notes say", agree: true)
    }
}
