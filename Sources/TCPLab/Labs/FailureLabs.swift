import Foundation
import TCPLabFault
import TCPLabSystem

/// Failures after the connection is up: dead peers, lost data, closed windows, limits.
enum FailureLabs {
    static let all: [LabDefinition] = [clientDeadKeepalive, serverDeadRetransmit, peerRestart, dataLost, zeroWindow, fdLimit]

    static func seconds(_ time: Int64?, from origin: Int64) -> Double? { time.map { Double($0 - origin) / 1_000_000 } }

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
        try lab.echoServer(port: 7002)
        _ = try lab.startClient(["--close", "never"])
        _ = try lab.startClient(port: 7002, ["--close", "never"])
        guard lab.wait(timeout: 5, until: { (try? lab.sockets(["state", "established", "dport", "= :7002"]).count) == 1 }) else {
            throw LabError.unexpected("the clients did not connect")
        }
        usleep(100_000)
        // The client's host vanishes: everything it sends is black-holed from now on.
        let fault = try ctx.faultproxy("any", from: .client)
        var observation = fault.wait(timeout: death + 2) { $0.firstTime(.server, entered: "CLOSED") != nil }
        let quiet = try lab.sockets(["state", "established", "sport", "= :7002"]).count
        observation = fault.stop()
        ctx.show(observation, "every segment from the client dropped; server keepalive \(idle),\(interval),\(count)")
        // The timeline starts mid-connection, so the classifier may call the first probe a plain ACK.
        let probes = observation.segments(from: .server).filter { $0.payloadBytes == 0 && ($0.kind == .keepalive || $0.kind == .ack) }
        guard let first = probes.first else {
            ctx.expect("keepalive probes from the server", false, expected: "\(count)", observed: "none")
            return
        }
        // Idle counts from the last segment the server received; the first probe is `idle` after it.
        let lastHeard = first.timeUnixMicroseconds - Int64(Double(idle) * 1_000_000)
        let expected = KeepaliveModel.probes(idle: Double(idle), interval: Double(interval), count: count)
        let observed = observation.offsets(probes, from: lastHeard)
        for (index, at) in expected.enumerated().dropFirst() {
            ctx.expectTime("keepalive probe \(index + 1) (from the first probe − idle)", expected: at, observed: index < observed.count ? observed[index] : nil,
                           timers: Array(repeating: Double(interval), count: index), gap: at - Double(idle))
        }
        ctx.expect("probes sent", expected: count, observed: probes.count)
        ctx.expectTime("server gives up (idle + interval × count)", expected: death, observed: seconds(observation.firstTime(.server, entered: "CLOSED"), from: lastHeard),
                       timers: Array(repeating: Double(interval), count: count) + [0.005], gap: death - Double(idle))
        ctx.expect("the server resets the dead connection", expected: "rst", observed: observation.segments(from: .server).last?.kind.rawValue)
        ctx.expect("without keepalive the other server connection stays", expected: 1, observed: quiet)
        let real = ctx.defaults
        ctx.notes(say: "保活计时器通常设为2小时；若2小时没有收到客户端的数据，服务器就发送一个探测报文段，以后则每隔75分钟发送一次；一连发送10个探测报文段后仍无响应就关闭连接",
                  kernel: "defaults here: \(real.describe(["tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes"])) — probes every 75 s (not minutes), 9 of them, dead after \(Int(KeepaliveModel.death(idle: Double(real.keepaliveTime), interval: Double(real.keepaliveInterval), count: real.keepaliveProbes))) s; only sockets with SO_KEEPALIVE probe at all, then the kernel sends RST",
                  agree: false)
    }

    static let serverDeadRetransmit = LabDefinition(
        "server-dead-retransmit", family: .failure,
        summary: "The server's host vanishes while the client sends: RTO backoff until tcp_retries2 gives ETIMEDOUT",
        question: "如果已经建立了连接，但是服务端突然出现故障了怎么办？(the server fails after the connection is up)"
    ) { ctx in
        throw LabSkip("not built yet")
    }

    static let peerRestart = LabDefinition(
        "peer-restart", family: .failure,
        summary: "The server's host lost its state and comes back: the client's next segment draws RST (ECONNRESET)",
        question: "服务端设备断电重启了，之前与客户端建立的连接就消失了，于是在收到客户端的数据包的时候就会发送 RST"
    ) { ctx in
        throw LabSkip("not built yet")
    }

    static let dataLost = LabDefinition(
        "data-lost", family: .failure,
        summary: "One data segment lost: RTO (or tail loss probe) for a lone segment, fast retransmit with SACK in a stream",
        question: "TCP 重传机制：超时重传、快速重传 (retransmission: timeout and fast retransmit)"
    ) { ctx in
        throw LabSkip("not built yet")
    }

    static let zeroWindow = LabDefinition(
        "zero-window", family: .failure,
        summary: "The receiver stops reading: the window closes and the persist timer probes with backoff",
        question: "滑动窗口、流量控制：窗口为 0 时会发生什么？(flow control: a zero window)"
    ) { ctx in
        throw LabSkip("not built yet")
    }

    static let fdLimit = LabDefinition(
        "fd-limit", family: .failure,
        summary: "The server hits its open-file limit: accept() fails with EMFILE while handshakes still complete into the backlog",
        question: "文件描述符限制：too many open files (the file descriptor limit)"
    ) { ctx in
        throw LabSkip("not built yet")
    }
}
