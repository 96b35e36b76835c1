import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let peerRestart = LabDefinition(
        "peer-restart", family: .failure,
        summary: "The server's host lost its state and comes back: the client's next segment draws RST (ECONNRESET)",
        question: "服务端设备断电重启了，之前与客户端建立的连接就消失了，于是在收到客户端的数据包的时候就会发送 RST"
    ) { ctx in
        try PeerRestart.run(ctx)
    }
}

/// A restarted host is a host without the connection's socket. On one loopback namespace that is
/// the server's socket destroyed through sock_diag (`ss -K`, SOCK_DESTROY), with the RST the
/// destroy itself sends dropped — a host that loses power sends nothing. The echo server keeps
/// listening, as a server that is back up would. The client, idle meanwhile, still believes in
/// the connection; its next data segment finds no socket and draws the kernel's RST.
enum PeerRestart: LabFamily {
    /// How long the client stays idle after connecting: the "restart" happens in this window.
    static let hold = 1.0

    static func run(_ ctx: LabContext) throws {
        let lab = ctx.lab
        try lab.echoServer()
        // Installed before the handshake, so conntrack follows the connection and `rst:1` counts it.
        let fault = try ctx.faultproxy("rst:1", from: .server)
        let process = try lab.startClient(["--hold", "\(hold)s"])
        guard lab.wait(timeout: 5, until: { (try? lab.sockets(["state", "established", "sport", "= :\(lab.port)"]).count) == 1 }) else {
            throw LabError.unexpected("the client did not connect: \(process.standardError)")
        }
        // The server's host "reboots": its socket for the connection is gone, its listener is back.
        let destroy = try lab.namespace.run(["ss", "-K", "-t", "-4", "-n", "state", "established", "sport", "= :\(lab.port)"], check: false)
        let serverLeft = try lab.sockets(["state", "established", "sport", "= :\(lab.port)"]).count
        guard serverLeft == 0 else {
            throw LabSkip("`ss -K` did not destroy the server's socket (the kernel needs CONFIG_INET_DIAG_DESTROY): exit \(destroy.status) \(destroy.standardError.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let halfOpen = try lab.sockets(["state", "established", "dport", "= :\(lab.port)"]).count
        let result = try lab.clientResult(process, timeout: hold + 10)
        var observation = fault.wait(timeout: 3) { $0.firstTime(.client, entered: "CLOSED") != nil }
        observation = fault.stop()
        ctx.show(observation, "the server's socket destroyed (its own RST dropped); the client sends after \(TimingTolerance.format(hold)) s idle")

        let resets = observation.segments(.rst, from: .server)
        ctx.expect("the destroy's RST never reaches the client", resets.first?.fate == .dropped,
                   expected: "first RST from the server dropped", observed: resets.first.map { "\($0.fate)" } ?? "no RST")
        ctx.expect("the client stays ESTABLISHED with no server socket (half-open)", expected: 1, observed: halfOpen)
        let data = observation.segments(.data, from: .client)
        ctx.expect("client data segments (none retransmitted)", expected: 1, observed: data.count)
        guard let sent = data.first, let reset = resets.first(where: { $0.fate != .dropped && $0.timeUnixMicroseconds >= sent.timeUnixMicroseconds }) else {
            ctx.expect("the client's data draws RST", false, expected: "data, then RST from the server", observed: "\(data.count) data, \(resets.count) RST")
            return
        }
        let answer = reset.timeUnixMicroseconds - sent.timeUnixMicroseconds
        ctx.fact("the RST left the server's kernel \(answer) µs after the client's data reached it; the client's srtt is \(Int(((result.rttSeconds ?? 0) * 1_000_000).rounded())) µs (TCP_INFO)")
        ctx.expectTime("RST answers the data after about one RTT (no timer)", expected: result.rttSeconds ?? 0,
                       observed: seconds(reset.timeUnixMicroseconds, from: sent.timeUnixMicroseconds), timers: [])
        // tcp_v4_send_reset for a segment with ACK: seq = its ack, no ACK flag (RFC 793 reset generation).
        ctx.expect("the RST answers the segment, not a connection: seq = the data's ack, no ACK flag",
                   reset.sequenceRaw == sent.acknowledgmentRaw && !reset.flags.contains("."),
                   expected: "R seq \(sent.acknowledgmentRaw)", observed: "\(reset.flags) seq \(reset.sequenceRaw)")
        ctx.expect("the client's read fails with", expected: "ECONNRESET", observed: result.error)
        // From ESTABLISHED on: the 5 ms state poll sometimes catches SYN_SENT first.
        ctx.expect("client state path from ESTABLISHED", expected: "ESTABLISHED → CLOSED",
                   observed: observation.statePath(.client).drop { $0 != "ESTABLISHED" }.joined(separator: " → "))
        let closed = observation.firstTime(.client, entered: "CLOSED")
        ctx.expect("the client learns only when it sends", (closed ?? 0) >= sent.timeUnixMicroseconds,
                   expected: "CLOSED after its data", observed: closed.map { "CLOSED at +\(TimingTolerance.format(Double($0 - sent.timeUnixMicroseconds) / 1_000_000)) s from its data" } ?? "never CLOSED")
        ctx.notes(say: "服务端设备断电重启了，之前与客户端建立的连接就消失了，于是在收到客户端的数据包的时候就会发送 RST 报文",
                  kernel: "a segment for which the server's host has no socket (its listener only answers SYNs) draws an RST at once, about one RTT after the client's data; the client's socket is reset (ECONNRESET) and closed. Until it sends, the client keeps the dead connection ESTABLISHED",
                  agree: true)
    }
}
