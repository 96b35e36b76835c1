import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let closeWaitLeak = LabDefinition(
        "close-wait-leak", family: .teardown,
        summary: "The server never calls close(): CLOSE_WAIT piles up; each client leaves FIN_WAIT2 after tcp_fin_timeout",
        question: "服务器出现大量 CLOSE_WAIT 的连接的原因是什么？有什么解决方法？(many CLOSE_WAIT sockets on a server)"
    ) { ctx in
        let lab = ctx.lab
        let finTimeout = try requireFinTimeout(ctx, margin: 3)
        try lab.echoServer(["--close", "never"])
        let fault = try ctx.faultproxy()
        let clients = 3
        for _ in 0..<clients { _ = try lab.echoClient() }
        var observation = fault.wait(timeout: ctx.waitLimit(finTimeout, timers: [finTimeout])) { $0.states(.client).filter { $0.state == nil }.count >= clients }
        let closeWait = try lab.sockets(["state", "close-wait"]).count
        observation = fault.stop()
        ctx.show(observation, "\(clients) clients close; the server never does")
        ctx.expect("CLOSE_WAIT sockets on the server after tcp_fin_timeout", expected: clients, observed: closeWait)
        for connection in 0..<clients {
            let events = observation.segments(connection: connection)
            guard let port = events.first.flatMap({ UInt16($0.source.split(separator: ":").last ?? "") }) else { continue }
            // Entered at the tracepoint's time (the ACK of the FIN arms the timer), left when sock_diag
            // no longer lists the time-wait socket: a poll's lag at the entry made the span look short.
            let steps = observation.stateSteps(.client, localPort: port)
            if let entered = steps.first(where: { $0.state == "FIN_WAIT2" })?.timeUnixMicroseconds {
                ctx.expectTime("client \(connection + 1) leaves FIN_WAIT2", expected: finTimeout,
                               observed: seconds(steps.first(where: { $0.state == "CLOSED" && $0.timeUnixMicroseconds > entered })?.timeUnixMicroseconds, from: entered),
                               timers: [finTimeout], resolution: LabContext.pollResolution)
            }
        }
        ctx.notes(say: "CLOSE_WAIT 状态下，需要关闭连接: the application must close()",
                  kernel: "the kernel never ends CLOSE_WAIT by itself (no timer: \(closeWait) sockets stay); only the peer's FIN_WAIT2 expires", agree: true)
    }
}
