import Foundation
import TCPLabFault
import TCPLabSystem

extension TeardownLabs {
    static let timeWaitExhaustion = LabDefinition(
        "time-wait-exhaustion", family: .teardown,
        summary: "Short connections from a narrow port range: EADDRNOTAVAIL until tcp_tw_reuse frees ports; tcp_max_tw_buckets",
        question: "TIME_WAIT 过多有什么危害？/ 如何优化 TIME_WAIT？(too many TIME_WAITs, and the remedies)",
        sysctls: [("net.ipv4.tcp_tw_reuse", 0)],
        fastSysctls: [("net.ipv4.tcp_tw_reuse_delay", 100)]
    ) { ctx in
        let lab = ctx.lab
        try lab.client.namespace.setSysctl("net.ipv4.ip_local_port_range", "40000 40003")
        let ports = 4
        try lab.echoServer()
        let exhausted = try lab.echoClient(["--connections", "\(ports + 2)"])
        let timeWaits = try lab.sockets(["state", "time-wait"]).count
        ctx.expect("TIME_WAIT sockets after \(ports) connections from \(ports) ports", expected: ports, observed: timeWaits)
        ctx.expect("the next connect() fails", expected: "EADDRNOTAVAIL", observed: exhausted.error ?? "success")
        try lab.sysctl("net.ipv4.tcp_tw_reuse", 1)
        usleep(UInt32(CloseTimersModel.twReuseDelay(milliseconds: lab.hasSysctl("net.ipv4.tcp_tw_reuse_delay") ? try lab.sysctl("net.ipv4.tcp_tw_reuse_delay") : nil) * 1_000_000) + 50_000)
        let reused = try lab.echoClient(["--connections", "\(ports)"])
        ctx.expect("with tcp_tw_reuse=1, connections reuse TIME_WAIT ports", expected: "success", observed: reused.error ?? "success")
        try lab.sysctl("net.ipv4.tcp_tw_reuse", 0)
        try lab.sysctl("net.ipv4.tcp_max_tw_buckets", 0)
        try lab.client.namespace.setSysctl("net.ipv4.ip_local_port_range", "40010 40013")
        let unbounded = try lab.echoClient(["--connections", "\(ports * 2)"])
        ctx.expect("with tcp_max_tw_buckets=0 no TIME_WAIT is kept, \(ports * 2) connections from \(ports) ports", expected: "success", observed: unbounded.error ?? "success")
        ctx.fact("ip_local_port_range 40000–40003; connect() picks a free port and a TIME_WAIT on the same 4-tuple blocks it (EADDRNOTAVAIL) unless tcp_tw_reuse lets an outgoing connection take it over")
        ctx.notes(say: "TIME_WAIT 过多: ports run out", kernel: "confirmed: EADDRNOTAVAIL after \(timeWaits) connections; tcp_tw_reuse (\(ctx.defaults.twReuse) by default: loopback only) or tcp_max_tw_buckets relieve it", agree: true)
    }
}
