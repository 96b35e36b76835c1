import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
    static let oldDuplicateSyn = LabDefinition(
        "old-duplicate-syn", family: .setup,
        summary: "Why three handshakes: a delayed duplicate SYN makes the server answer; the client resets the stale SYN-ACK",
        question: "TCP 为什么三次握手而不是两次握手：防止已失效的连接请求 (an old duplicate SYN)"
    ) { ctx in
        let lab = ctx.lab
        try lab.echoServer()
        let fault: FaultProxyRun
        do {
            fault = try lab.fault(.duplicate(.syn, after: .seconds(1), count: 1))
        } catch {
            throw LabSkip("needs faultproxy --duplicate (NFQUEUE re-injection), which this kernel cannot install: \(error)")
        }
        let client = try lab.echoClient(["--bind", "\(lab.clientAddress):40000"])
        var observation = fault.wait(timeout: 2) { $0.segments(.rst, from: .client).count > 0 }
        observation = fault.stop()
        ctx.show(observation, "the first SYN passes and a copy arrives 1 s later, after the connection closed")
        ctx.expect("the first connection works", expected: true, observed: client.echoOK)
        let duplicate = observation.segments(.syn, from: .client).last?.timeUnixMicroseconds ?? .max
        let answered = observation.segments(.synack, from: .server).contains { $0.timeUnixMicroseconds > duplicate }
        ctx.expect("the server cannot tell the copy is stale: it answers with a SYN-ACK", expected: true, observed: answered)
        let resets = observation.segments(.rst).filter { $0.timeUnixMicroseconds > duplicate }
        ctx.expect("an RST ends the stale attempt", resets.count >= 1, expected: "≥ 1 RST", observed: "\(resets.count) (\(resets.map(\.from.rawValue).joined(separator: ", ")))")
        let established = observation.transitions.filter { $0.timeUnixMicroseconds > duplicate && $0.state?.description == "ESTABLISHED" }.count
        ctx.expect("connections established from the stale SYN", expected: 0, observed: established)
        ctx.fact("here the client's 4-tuple is in TIME_WAIT when the stale SYN-ACK arrives: TIME_WAIT answers with its old ACK, whose number the server's request rejects with RST; a client in SYN_SENT would send the RST itself (the notes' picture). Either way the third segment is what lets the client refuse")
        ctx.notes(say: "防止已失效的连接请求又传送到服务器端，因而产生错误", kernel: "the server answered the stale SYN like a new one; only the third step (the client's reply) stopped it: RST, no connection", agree: true)
    }
}
