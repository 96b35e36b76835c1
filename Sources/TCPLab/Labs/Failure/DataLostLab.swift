import Foundation
import TCPLabFault
import TCPLabObserve
import TCPLabSystem

extension FailureLabs {
    static let dataLost = LabDefinition(
        "data-lost", family: .failure,
        summary: "One data segment lost: RTO (or tail loss probe) for a lone segment, fast retransmit with SACK in a stream",
        question: "TCP 重传机制：超时重传、快速重传 (retransmission: timeout and fast retransmit)"
    ) { ctx in
        try DataLostRun.run(ctx)
    }
}

/// The data-lost lab: the first data segment of each connection is dropped. Connection 0 is
/// echo-client's single message (nothing follows it, so only a timer can repair it); connection
/// 1 is a stream of small segments (the ones after the hole draw duplicate ACKs with SACK).
enum DataLostRun: LabFamily {
    static let streamSegments = 6
    static let segmentBytes = 1000
    /// Between two writes of the stream: far longer than a loopback RTT, far shorter than the RTO.
    static let writeGapMicroseconds: UInt32 = 2000
    static let counters = ["TCPLossProbes", "TCPLossProbeRecovery", "TCPTimeouts", "TCPFastRetrans", "TCPSackRecovery", "TCPOFOQueue"]

    static func run(_ ctx: LabContext) throws {
        let lab = ctx.lab
        let port = lab.port
        try lab.echoServer(port: port)
        let fault = try ctx.faultproxy("data@1", from: .client, port: port)
        let start = try lab.netstat()
        let client = try lab.echoClient(port: port)
        let afterLone = try lab.netstat()
        let serverAddress = lab.serverAddress
        let stream = try lab.inside(.client) {
            try LossyStream.run(host: serverAddress, port: port, segments: streamSegments, bytes: segmentBytes, gapMicroseconds: writeGapMicroseconds)
        }
        let afterStream = try lab.netstat()
        _ = fault.wait(timeout: 2) { $0.segments(.lastAck, connection: 1).count >= 1 }
        let observation = fault.stop()

        let lone = part(observation, connection: 0)
        let flow = part(observation, connection: 1)
        ctx.show(lone, "connection 0: echo-client's one message, its only data segment dropped")
        ctx.show(flow, "connection 1: \(streamSegments) writes of \(segmentBytes) bytes with TCP_NODELAY, \(writeGapMicroseconds / 1000) ms apart; the first dropped")
        let rto = rto(ctx, client)
        judgeLone(ctx, lone, client: client, rto: rto, changed: afterLone.delta(from: start))
        judgeStream(ctx, flow, stream: stream, rto: rto, changed: afterStream.delta(from: afterLone))

        ctx.notes(say: "超时重传： 当发送方发送数据之后，它将会启动一个定时器，等到接收方发送确认收到这个报文段的消息。如果在合理的往返时延（RTT）内为收到确认消息，那么对应的数据包就被假设为已丢失并进行重传。",
                  kernel: "the timer is not \"about one RTT\": the RTO is srtt + max(4·mdev, tcp_rto_min) — \(TimingTolerance.format(rto)) s on a loopback RTT of \(Int(((client.rttSeconds ?? 0) * 1_000_000).rounded())) µs — and a lone lost segment is re-sent by the tail loss probe (TCPLossProbes), which on loopback fires at the same moment, not by the RTO (TCPTimeouts stays 0)",
                  agree: false)
        ctx.notes(say: "(the notes stop at 超时重传; the catalogue asks about 快速重传, whose textbook rule is three duplicate ACKs — TCP_FASTRETRANS_THRESH = 3)",
                  kernel: "with SACK, RACK (tcp_recovery=1) marks the hole lost as soon as a segment sent after it is SACKed and it has been out longer than RTT + min_rtt/4: here on the first duplicate ACK, milliseconds after the loss instead of an RTO later",
                  agree: false)
    }

    /// One connection's segments and its sockets' states (by the client's port).
    static func part(_ observation: Observation, connection: Int) -> Observation {
        let events = observation.events.filter { $0.connection == connection }
        let clientPort = events.first.flatMap { UInt16($0.source.split(separator: ":").last ?? "") }
        let transitions = observation.transitions.filter {
            clientPort == nil || ($0.side == .client ? $0.local.port : $0.remote.port) == clientPort
        }
        return Observation(events: events, transitions: transitions, tolerance: observation.tolerance)
    }

    static func judgeLone(_ ctx: LabContext, _ observation: Observation, client: ClientResult, rto: Double, changed: NetstatSnapshot) {
        let schedule = EstablishedRetransmissionModel.data(rto: rto, parameters: ctx.kernel)
        let sent = observation.segments(.data, from: .client)
        ctx.expect("lone segment: the first transmission is dropped", expected: "dropped", observed: sent.first?.fate.rawValue)
        guard let first = sent.first else { return }
        let repeats = sent.dropFirst().filter { $0.sequenceRelative == first.sequenceRelative }
        ctx.expectTime("lone segment re-sent (tail loss probe; PTO = min(2·srtt + tcp_rto_min, RTO) = RTO on loopback)",
                       expected: schedule.retransmissions.first ?? rto,
                       observed: repeats.first.map { Double($0.timeUnixMicroseconds - first.timeUnixMicroseconds) / 1_000_000 },
                       timers: schedule.timeouts(untilRetransmission: 0))
        let quiet = observation.segments(from: .server).filter {
            $0.timeUnixMicroseconds > first.timeUnixMicroseconds && $0.timeUnixMicroseconds < (repeats.first?.timeUnixMicroseconds ?? .max)
        }
        ctx.expect("no duplicate ACK can warn the sender (nothing follows the lost segment)", expected: 0, observed: quiet.count)
        ctx.expect("it was the loss probe, not the RTO: TCPLossProbes", expected: 1, observed: changed["TcpExt", "TCPLossProbes"])
        ctx.expect("TCPTimeouts (RTO expiries)", expected: 0, observed: changed["TcpExt", "TCPTimeouts"])
        ctx.expect("echo-client's TCP_INFO tcpi_total_retrans", expected: 1, observed: (client.tcpInfo["total_retrans"] as? Double).map { Int($0) })
        ctx.expect("the echo still arrives", expected: true, observed: client.echoOK)
        ctx.fact("lone segment counters: " + changed.describe(counters) + "; echo-client TCP_INFO retransmits \(client.tcpInfo["retransmits"] ?? "?"), total_retrans \(client.tcpInfo["total_retrans"] ?? "?"), rto \(client.tcpInfo["rto_us"] ?? "?") µs")
    }

    static func judgeStream(_ ctx: LabContext, _ observation: Observation, stream: LossyStream.Outcome, rto: Double, changed: NetstatSnapshot) {
        let sent = observation.segments(.data, from: .client)
        ctx.expect("stream: the first segment is dropped", expected: "dropped", observed: sent.first?.fate.rawValue)
        guard let hole = sent.first, sent.count > 1 else { return }
        let next = sent[1]
        guard let repair = sent.dropFirst().first(where: { $0.sequenceRelative == hole.sequenceRelative }) else {
            ctx.expect("the hole is retransmitted", false, expected: "a retransmission of seq \(hole.sequenceRelative)", observed: "none")
            return
        }
        // Duplicate ACKs: the receiver's ACKs still asking for the hole, before it was re-sent.
        let duplicates = observation.segments(from: .server).filter {
            $0.timeUnixMicroseconds > hole.timeUnixMicroseconds && $0.timeUnixMicroseconds <= repair.timeUnixMicroseconds
                && $0.acknowledgmentRelative == hole.sequenceRelative && $0.payloadBytes == 0
        }
        for ack in duplicates {
            ctx.fact("duplicate ACK +\(TimingTolerance.format(Double(ack.timeUnixMicroseconds - hole.timeUnixMicroseconds) / 1_000_000)) s after the loss: ack \(ack.acknowledgmentRelative ?? 0) sack \((ack.sackRelative ?? []).map { "[\($0.first ?? 0), \($0.last ?? 0))" }.joined(separator: " "))")
        }
        guard let firstDuplicate = duplicates.first else {
            ctx.expect("duplicate ACKs before the retransmission", false, expected: "at least one, with SACK", observed: "none")
            return
        }
        let covered = [next.sequenceRelative, next.sequenceRelative &+ UInt32(next.payloadBytes)]
        ctx.expect("the first duplicate ACK SACKs the segment after the hole", expected: "[\(covered[0]), \(covered[1]))",
                   observed: firstDuplicate.sackRelative?.first.map { "[\($0.first ?? 0), \($0.last ?? 0))" })

        // RACK: the hole was sent `sentBefore` earlier than the SACKed segment.
        let sentBefore = Double(next.timeUnixMicroseconds - hole.timeUnixMicroseconds) / 1_000_000
        let minRTT = Double(stream.info.minRTTMicroseconds ?? 0) / 1_000_000
        let srtt = Double(stream.info.rttMicroseconds ?? 0) / 1_000_000
        let window = RACKLossModel.reorderingWindow(minRTT: minRTT, srtt: srtt, sackedOut: 1)
        let delay = RACKLossModel.retransmitDelay(sentBefore: sentBefore, reorderingWindow: window)
        ctx.fact("RACK model: hole sent \(Int((sentBefore * 1_000_000).rounded())) µs before the SACKed segment; reo_wnd = min(min_rtt \(stream.info.minRTTMicroseconds ?? 0) µs / 4, srtt \(stream.info.rttMicroseconds ?? 0) µs) = \(Int((window * 1_000_000).rounded())) µs → lost on the SACK's arrival + \(TimingTolerance.format(delay)) s")
        ctx.expectTime("hole retransmitted after the first SACK duplicate ACK (RACK)", expected: delay,
                       observed: Double(repair.timeUnixMicroseconds - firstDuplicate.timeUnixMicroseconds) / 1_000_000, timers: delay > 0 ? [delay] : [])
        ctx.expect("duplicate ACKs before the fast retransmit (the classic rule waits for \(RACKLossModel.duplicateThreshold))",
                   expected: 1, observed: duplicates.count)
        let repairedAfter = Double(repair.timeUnixMicroseconds - hole.timeUnixMicroseconds) / 1_000_000
        ctx.expect("repaired long before the timers (tail loss probe / RTO at +\(TimingTolerance.format(rto)) s)", repairedAfter < rto / 4,
                   expected: "< +\(TimingTolerance.format(rto / 4)) s", observed: "+\(TimingTolerance.format(repairedAfter)) s")
        ctx.expect("TCPFastRetrans", expected: 1, observed: changed["TcpExt", "TCPFastRetrans"])
        ctx.expect("TCPSackRecovery (recovery episodes started by SACK)", expected: 1, observed: changed["TcpExt", "TCPSackRecovery"])
        ctx.expect("no timer was needed: TCPLossProbes + TCPTimeouts", expected: 0,
                   observed: changed["TcpExt", "TCPLossProbes"] + changed["TcpExt", "TCPTimeouts"])
        ctx.expect("stream sender's TCP_INFO tcpi_total_retrans", expected: 1, observed: stream.info.totalRetrans)
        ctx.expect("tcpi_retrans (retransmitted and still unacknowledged) at the end", expected: 0, observed: stream.info.retrans)
        ctx.expect("the whole stream is echoed back intact", expected: streamSegments * segmentBytes, observed: stream.echoedIntact)
        ctx.fact("stream counters: " + changed.describe(counters) + "; sender TCP_INFO total_retrans \(stream.info.totalRetrans ?? -1), bytes_retrans \(stream.info.bytesRetrans ?? -1), reord_seen \(stream.info.reorderSeen ?? -1), rto \(stream.info.rtoMicroseconds ?? -1) µs")
    }
}

/// A client on the client's host that writes a stream of small segments to the echo server and
/// reads the echo back.
enum LossyStream {
    struct Outcome: Sendable {
        /// Bytes echoed back that match what was sent (the whole stream when nothing was lost for good).
        var echoedIntact: Int
        var info: TCPInfoDetail
    }

    static func run(host: String, port: UInt16, segments: Int, bytes: Int, gapMicroseconds: UInt32) throws -> Outcome {
        let socket = try Socket.tcp(.ipv4)
        defer { socket.close() }
        try socket.connect(to: try SocketAddress(host: host, port: port))
        // One write, one segment: no Nagle holding back the small writes behind the lost one.
        try socket.setNoDelay(true)
        var sent: [UInt8] = []
        for index in 0..<segments {
            let payload = [UInt8](repeating: UInt8(0x41 + index % 26), count: bytes)
            try socket.writeAll(payload)
            sent += payload
            usleep(gapMicroseconds)
        }
        try socket.setNonBlocking()
        var echoed: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(3)
        while echoed.count < sent.count, Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { raw in try? socket.read(into: raw) }
            guard let count else { usleep(1000); continue }
            if count == 0 { break }
            echoed += buffer.prefix(count)
        }
        let info = try socket.tcpInfoDetail()
        let intact = zip(echoed, sent).prefix { $0 == $1 }.count
        return Outcome(echoedIntact: intact, info: info)
    }
}
