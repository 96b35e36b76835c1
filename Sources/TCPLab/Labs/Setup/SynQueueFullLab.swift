import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
    static let synQueueFull = LabDefinition(
        "syn-queue-full", family: .setup,
        summary: "SYN queue under a burst of SYNs that never complete: SYN_RECV entries bounded by the backlog, then SYN cookies",
        question: "半连接队列满了会怎样？SYN 攻击与 tcp_syncookies (a full SYN queue)"
    ) { ctx in
        let lab = ctx.lab
        let backlog = 4
        let burst = 10
        for (cookies, port) in [(1, lab.port), (0, lab.port(2))] {
            try lab.sysctl("net.ipv4.tcp_syncookies", cookies)
            try lab.echoServer(port: port, ["--backlog", "\(backlog)"])
            let sent = try lab.counter("TcpExt", "SyncookiesSent")
            let drops = try lab.counter("TcpExt", "TCPReqQFullDrop")
            // Every SYN-ACK is lost, so no handshake completes and each request stays in SYN_RECV.
            let fault = try ctx.faultproxy("synack", port: port)
            let clients = try (0..<burst).map { _ in try lab.startClient(port: port, ["--connect-timeout", "1.5s"]) }
            usleep(700_000)
            let halfOpen = try lab.sockets(["state", "syn-recv", "sport", "= :\(port)"]).count
            let cookiesSent = try lab.counter("TcpExt", "SyncookiesSent") - sent
            let fullDrops = try lab.counter("TcpExt", "TCPReqQFullDrop") - drops
            for client in clients { client.stop() }
            fault.stop()
            // reqsk queue is full when its length exceeds the listen backlog (inet_csk_reqsk_queue_is_full).
            // The listener is lockless: the check comes before the request is added, so SYNs handled
            // at once on different CPUs can each pass it (measured on two hosts: 6 with backlog 4 on 2
            // CPUs, once in five rounds). So backlog + 1, and up to one more per further CPU.
            let most = backlog + ProcessInfo.processInfo.activeProcessorCount
            ctx.expect("SYN_RECV entries with backlog \(backlog), tcp_syncookies=\(cookies)", (backlog + 1...most).contains(halfOpen),
                       expected: most > backlog + 1 ? "\(backlog + 1) (up to \(most) with SYNs on \(most - backlog) CPUs at once)" : "\(backlog + 1)",
                       observed: "\(halfOpen)")
            if cookies == 1 {
                ctx.expect("SYN cookies answer the SYNs beyond the queue", cookiesSent >= burst - halfOpen, expected: "≥ \(burst - halfOpen)", observed: "\(cookiesSent)")
            } else {
                ctx.expect("the rest are dropped (TCPReqQFullDrop)", fullDrops >= burst - halfOpen, expected: "≥ \(burst - halfOpen)", observed: "\(fullDrops)")
            }
        }
        ctx.notes(say: "半连接队列 is sized by tcp_max_syn_backlog",
                  kernel: "the SYN queue is bounded by the listen backlog (min(backlog, somaxconn)); tcp_max_syn_backlog (\(ctx.defaults.maxSynBacklog)) only reserves its last quarter for proven peers when cookies are off", agree: false)
    }
}
