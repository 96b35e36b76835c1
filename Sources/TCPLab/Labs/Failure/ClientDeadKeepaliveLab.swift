import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let clientDeadKeepalive = LabDefinition(
        "client-dead-keepalive", family: .failure,
        summary: "The client's host vanishes: keepalive probes go unanswered and the server resets after idle + interval × count",
        question: "如果已经建立了连接，但是客户端突然出现故障了怎么办？(the client fails after the connection is up) / 保活计时器"
    ) { ctx in
        let lab = ctx.lab
        // Per-socket TCP_KEEPIDLE/KEEPINTVL/KEEPCNT in the fast profile; the sysctls otherwise.
        let idle = ctx.fast ? 1 : ctx.kernel.keepaliveTime
        let interval = ctx.fast ? 1 : ctx.kernel.keepaliveInterval
        let count = ctx.fast ? 3 : ctx.kernel.keepaliveProbes
        let death = KeepaliveModel.death(idle: Double(idle), interval: Double(interval), count: count)
        try ctx.requireTime(death + 3, for: "waiting for keepalive to give up")
        try lab.echoServer(["--keepalive", "\(idle),\(interval),\(count)"])
        try lab.echoServer(port: lab.port(2))
        _ = try lab.startClient(["--close", "never"])
        _ = try lab.startClient(port: lab.port(2), ["--close", "never"])
        guard lab.wait(timeout: 5, until: { (try? lab.sockets(["state", "established", "dport", "= :\(lab.port(2))"]).count) == 1 }) else {
            throw LabError.unexpected("the clients did not connect")
        }
        usleep(100_000)
        // The client's host vanishes: everything it sends is black-holed from now on.
        let fault = try ctx.faultproxy("any", from: .client)
        var observation = fault.wait(timeout: ctx.waitLimit(death, timers: Array(repeating: Double(interval), count: count + 1), margin: 2)) { $0.firstTime(.server, entered: "CLOSED") != nil }
        let quiet = try lab.sockets(["state", "established", "sport", "= :\(lab.port(2))"]).count
        observation = fault.stop()
        ctx.show(observation, "every segment from the client dropped; server keepalive \(idle),\(interval),\(count)")
        // The timeline starts mid-connection, so the classifier may call the first probe a plain ACK.
        let probes = observation.segments(from: .server).filter { $0.payloadBytes == 0 && ($0.kind == .keepalive || $0.kind == .ack) }
        guard let first = probes.first else {
            ctx.expect("keepalive probes from the server", false, expected: "\(count)", observed: "none")
            return
        }
        // Each probe's timer is armed by the probe before it (tcp_keepalive_timer re-arms for the
        // interval); the give-up comes one interval after the last probe. Offsets from the first probe.
        let origin = first.timeUnixMicroseconds
        let observed = observation.offsets(probes, from: origin)
        for index in 1..<count {
            ctx.expectTime("keepalive probe \(index + 1) (\(interval) s after probe \(index))", after: index - 1 < observed.count ? observed[index - 1] : nil,
                           timer: Double(interval), observed: index < observed.count ? observed[index] : nil, origin: origin)
        }
        ctx.expect("probes sent", expected: count, observed: probes.count)
        ctx.expectTime("server gives up (\(interval) s after the last probe: idle + interval × count in all)",
                       after: count - 1 < observed.count ? observed[count - 1] : nil, timer: Double(interval),
                       observed: seconds(observation.firstTime(.server, entered: "CLOSED"), from: origin), origin: origin)
        ctx.expect("the server resets the dead connection", expected: "rst", observed: observation.segments(from: .server).last?.kind.rawValue)
        ctx.expect("without keepalive the other server connection stays", expected: 1, observed: quiet)
        let real = ctx.defaults
        ctx.notes(say: "保活计时器通常设为2小时；若2小时没有收到客户端的数据，服务器就发送一个探测报文段，以后则每隔75分钟发送一次；一连发送10个探测报文段后仍无响应就关闭连接",
                  kernel: "defaults here: \(real.describe(["tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes"])) — probes every 75 s (not minutes), 9 of them, dead after \(Int(KeepaliveModel.death(idle: Double(real.keepaliveTime), interval: Double(real.keepaliveInterval), count: real.keepaliveProbes))) s; only sockets with SO_KEEPALIVE probe at all, then the kernel sends RST",
                  agree: false)
    }
}
