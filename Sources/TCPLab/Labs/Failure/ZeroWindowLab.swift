import Foundation
import TCPLabFault
import TCPLabObserve
import TCPLabSystem

extension FailureLabs {
    static let zeroWindow = LabDefinition(
        "zero-window", family: .failure,
        summary: "The receiver stops reading: the window closes and the persist timer probes with backoff",
        question: "滑动窗口、流量控制：窗口为 0 时会发生什么？(flow control: a zero window)"
    ) { ctx in
        try ZeroWindowRun.run(ctx)
    }
}

/// The zero-window lab: a receiver with a 4 KiB SO_RCVBUF that never reads, a sender that fills
/// its send buffer, the persist timer's probes, then one read that reopens the window.
enum ZeroWindowRun: LabFamily {
    /// The kernel doubles it (8 KiB of buffer for a 4 KiB window, window scale 0).
    static let receiveBuffer = 4096
    static let sendBuffer = 16384
    /// Enough to see the backoff double and, in the fast profile (tcp_retries2=3), stop doubling.
    static let probeCount = 5
    static let counters = ["TCPWinProbe", "TCPACKSkippedSeq", "TCPToZeroWindowAdv", "TCPFromZeroWindowAdv", "TCPWantZeroWindowAdv",
                           "TCPLossProbes"]

    static func run(_ ctx: LabContext) throws {
        let lab = ctx.lab
        let kernel = ctx.kernel
        let rateLimit = Double(try lab.sysctl("net.ipv4.tcp_invalid_ratelimit")) / 1000
        let rough = PersistTimerModel.probes(count: probeCount, base: PersistTimerModel.base(rto: kernel.rtoMin + 0.01),
                                             retries2: kernel.retries2, rtoMax: kernel.rtoMax)
        try ctx.requireTime((rough.last ?? 0) * 1.2 + 3, for: "waiting for \(probeCount) zero-window probes")

        let port = lab.port
        let fault = try ctx.faultproxy(port: port)
        let before = try lab.netstat()
        // The receiver listens on the server's host, the sender connects from the client's.
        let listener = try lab.inside(.server) { try Socket.tcp(.ipv4) }
        let sender = try lab.inside(.client) { try Socket.tcp(.ipv4) }
        let peers = try ZeroWindowPeers.open(listener: listener, sender: sender, address: try SocketAddress(host: lab.serverAddress, port: port),
                                             receiveBuffer: receiveBuffer, sendBuffer: sendBuffer)
        defer { peers.close() }

        // 1. The window closes; the first probe follows after tcp_probe0_base.
        var observation = fault.wait(timeout: 3) { $0.segments(.windowProbe, from: .client).count >= 1 }
        guard let closing = zeroWindowAck(observation) else {
            ctx.show(fault.stop(), "the receiver never reads")
            ctx.expect("the receiver advertises a zero window", false, expected: "an ACK with win 0", observed: "none in 3 s")
            return
        }
        let closedAt = closing.timeUnixMicroseconds
        let sending = try peers.sender.tcpInfoDetail()
        let srtt = Double(sending.rttMicroseconds ?? 0) / 1_000_000
        let rto = EstablishedRetransmissionModel.rto(rtt: srtt, rtoMin: kernel.rtoMin)
        let base = PersistTimerModel.base(rto: rto)
        let expected = PersistTimerModel.probes(count: probeCount, base: base, retries2: kernel.retries2, rtoMax: kernel.rtoMax)
        let timers = PersistTimerModel.timers(count: probeCount, base: base, retries2: kernel.retries2, rtoMax: kernel.rtoMax)
        let last = expected.last ?? 0

        // 2. The rest of the probes.
        let slack = ctx.tolerance.allowance(timers: timers) + 0.3
        let waited = Date().timeIntervalSince1970 - Double(closedAt) / 1_000_000
        observation = fault.wait(timeout: max(last + slack - waited, 0.1)) { $0.segments(.windowProbe, from: .client).count >= probeCount }
        let stalled = try peers.sender.tcpInfoDetail()
        let receiving = try peers.receiver.tcpInfoDetail()
        let probesWhileStalled = observation.segments(.windowProbe, from: .client).count

        // 3. The application reads: the window reopens and the rest of the data flows.
        let drained = peers.drain(timeout: 5)
        peers.closeSender()
        _ = fault.wait(timeout: 2) { $0.segments(.fin, from: .client).count >= 1 }
        usleep(50_000)
        observation = fault.stop()
        let changed = try lab.netstat().delta(from: before)

        ctx.show(observation, "receiver with SO_RCVBUF \(receiveBuffer) (kernel: \(peers.receiveBufferBytes)) never reads; sender writes \(peers.written) bytes, then the receiver reads them all")
        ctx.fact("model: srtt \(sending.rttMicroseconds ?? 0) µs (TCP_INFO when the window closed) → RTO \(TimingTolerance.format(rto)) s (TCP_INFO: \(TimingTolerance.format(Double(sending.rtoMicroseconds ?? 0) / 1_000_000)) s); tcp_probe0_base = max(RTO, TCP_RTO_MIN 0.200 s) = \(TimingTolerance.format(base)) s; interval after probe k = base << min(k, \(kernel.describe(["tcp_retries2"]))), at most \(kernel.describe(["tcp_rto_max_ms"])): \(ctx.list(timers)) s; probes at +\(ctx.list(expected)) s after the zero-window ACK")
        judgeProbes(ctx, observation, closing: closing, expected: expected, timers: timers, rateLimit: rateLimit, skipped: changed["TcpExt", "TCPACKSkippedSeq"])
        judgeStall(ctx, stalled: stalled, receiving: receiving, probesWhileStalled: probesWhileStalled,
                   probes: observation.segments(.windowProbe, from: .client).count,
                   dataRetransmissions: observation.segments(.data, from: .client).filter(\.retransmission).count,
                   retries2: kernel.retries2, changed: changed)
        judgeReopen(ctx, observation, closedAt: closedAt, drained: drained, written: peers.written)

        ctx.notes(say: "流量控制：TCP连接的每一方都有固定大小的缓冲空间，接收方只允许发送方发送接收方缓冲区能接纳的数据。（TCP利用滑动窗口实现流量控制。）",
                  kernel: "the receiver's \(peers.receiveBufferBytes)-byte buffer took \(receiving.bytesReceived.map(String.init) ?? "?") bytes, then every ACK advertised win 0 and the sender stopped with \(peers.written - (receiving.bytesReceived ?? 0)) bytes queued (tcpi_snd_wnd 0)",
                  agree: true)
        ctx.notes(say: "(the notes do not say how a zero window reopens)",
                  kernel: "the sender's persist timer sends a zero-window probe (seq = snd_una − 1, no data) after max(RTO, 200 ms), doubling the wait only while the backoff is below tcp_retries2 (\(kernel.retries2)) and never beyond tcp_rto_max; the receiver answers at most one per tcp_invalid_ratelimit (\(Int(rateLimit * 1000)) ms); the sender never gives up while answers come; one read() sends the window update at once",
                  agree: true)
    }

    /// The first ACK from the receiver that advertises a zero window.
    static func zeroWindowAck(_ observation: Observation) -> TimelineEvent? {
        observation.segments(from: .server).first { $0.windowRaw == 0 && !$0.flags.contains("S") && !$0.flags.contains("R") }
    }

    static func judgeProbes(_ ctx: LabContext, _ observation: Observation, closing: TimelineEvent, expected: [Double],
                            timers: [Double], rateLimit: Double, skipped: Int) {
        let probes = observation.segments(.windowProbe, from: .client)
        let offsets = observation.offsets(probes, from: closing.timeUnixMicroseconds)
        // Each probe's persist timer is armed by the probe before it (tcp_send_probe0, or the
        // answer's tcp_ack_probe microseconds later); the first by the zero-window ACK. Offsets from that ACK.
        for index in expected.indices {
            ctx.expectTime("window probe \(index + 1) (\(TimingTolerance.format(timers[index])) s after \(index == 0 ? "the zero-window ACK" : "probe \(index)"))",
                           after: index == 0 ? 0 : (index - 1 < offsets.count ? offsets[index - 1] : nil), timer: timers[index],
                           observed: index < offsets.count ? offsets[index] : nil, origin: closing.timeUnixMicroseconds)
        }
        let intervals = zip(offsets.dropFirst(), offsets).map { $0 - $1 }
        ctx.fact("observed probe intervals: \(ctx.list([offsets.first ?? 0] + intervals)) s (model \(ctx.list(timers)) s)")
        let snaUna = (closing.acknowledgmentRelative ?? 0)
        ctx.expect("every probe is a pure ACK repeating the last acknowledged byte (seq = snd_una − 1)",
                   probes.allSatisfy { $0.payloadBytes == 0 && $0.sequenceRelative == snaUna &- 1 },
                   expected: "len 0, seq \(snaUna &- 1)", observed: probes.map { "len \($0.payloadBytes) seq \($0.sequenceRelative)" }.uniqued().joined(separator: "; "))

        // Which probes drew an answer: the receiver's next segment within a few ms, still win 0.
        let answers = probes.map { answer(to: $0, in: observation) }
        let answered = answers.map { $0 != nil }
        let times = offsets
        let predicted = PersistTimerModel.answered(probeTimes: times, invalidRateLimit: rateLimit, observed: answered)
        let mark: (Bool?) -> String = { $0 == nil ? "?" : ($0! ? "✓" : "✗") }
        let expectedText = predicted.map(mark).joined()
        let observedText = zip(predicted, answered).map { $0 == nil ? "?" : mark($1) }.joined()
        ctx.expect("receiver answers a probe only ≥ tcp_invalid_ratelimit \(Int(rateLimit * 1000)) ms after its last answer (✓ answered, ✗ skipped)",
                   expected: expectedText, observed: observedText)
        ctx.expect("skipped answers counted in TCPACKSkippedSeq", expected: answered.filter { !$0 }.count, observed: skipped)
        let windows = answers.compactMap { $0?.windowRaw }
        ctx.expect("every answer still advertises win 0", windows.allSatisfy { $0 == 0 }, expected: "win 0", observed: windows.map { "win \($0)" }.uniqued().joined(separator: ", "))
    }

    static func answer(to probe: TimelineEvent, in observation: Observation) -> TimelineEvent? {
        observation.segments(from: .server).first {
            $0.timeUnixMicroseconds >= probe.timeUnixMicroseconds && $0.timeUnixMicroseconds - probe.timeUnixMicroseconds < 5_000
        }
    }

    static func judgeStall(_ ctx: LabContext, stalled: TCPInfoDetail, receiving: TCPInfoDetail, probesWhileStalled: Int, probes: Int,
                           dataRetransmissions: Int, retries2: Int, changed: NetstatSnapshot) {
        ctx.fact("TCP_INFO while stalled: sender tcpi_snd_wnd \(stalled.sendWindow.map(String.init) ?? "?"), tcpi_backoff \(stalled.backoff ?? -1), tcpi_probes \(stalled.probes ?? -1) (unanswered probes), tcpi_total_retrans \(stalled.totalRetrans ?? -1), tcpi_rto \(stalled.rtoMicroseconds ?? -1) µs; receiver bytes_received \(receiving.bytesReceived ?? -1)")
        ctx.expect("sender's tcpi_snd_wnd while stalled", expected: 0, observed: stalled.sendWindow)
        ctx.expect("sender's tcpi_backoff after \(probesWhileStalled) probes = min(probes, tcp_retries2)", expected: min(probesWhileStalled, retries2),
                   observed: stalled.backoff)
        // Over a real link (MSS 1460, srtt ~5 ms) the last segment before the window closes can
        // go unacknowledged for two srtt, and the sender's tail loss probe resends it
        // (TCPLossProbes): that one counts, the probes do not.
        ctx.expect("probes are not retransmissions (tcpi_total_retrans = data segments resent, \(dataRetransmissions))",
                   expected: dataRetransmissions, observed: stalled.totalRetrans)
        ctx.expect("TCPWinProbe counts the probes", expected: probes, observed: changed["TcpExt", "TCPWinProbe"])
        ctx.fact("counters (namespace, whole run): " + changed.describe(counters))
    }

    static func judgeReopen(_ ctx: LabContext, _ observation: Observation, closedAt: Int64, drained: ZeroWindowPeers.Drain, written: Int) {
        let lastProbe = observation.segments(.windowProbe, from: .client).last?.timeUnixMicroseconds ?? closedAt
        let update = observation.segments(from: .server).first { $0.timeUnixMicroseconds > lastProbe && $0.windowRaw > 0 }
        ctx.expectTime("window update after the first read() (tcp_cleanup_rbuf, no timer)", expected: 0,
                       observed: update.map { Double($0.timeUnixMicroseconds - drained.firstReadUnixMicroseconds) / 1_000_000 }, timers: [])
        let resumed = update.flatMap { update in
            observation.segments(.data, from: .client).first { $0.timeUnixMicroseconds >= update.timeUnixMicroseconds }
        }
        ctx.expectTime("sender resumes on the window update", expected: 0,
                       observed: resumed.flatMap { data in update.map { Double(data.timeUnixMicroseconds - $0.timeUnixMicroseconds) / 1_000_000 } }, timers: [])
        if let update { ctx.fact("window update: ack \(update.acknowledgmentRelative ?? 0) win \(update.windowBytes ?? Int(update.windowRaw))") }
        ctx.expect("every byte arrives once the receiver reads", expected: written, observed: drained.bytes)
        ctx.expect("no reset: the sender never gives up on an answering receiver", expected: 0, observed: observation.segments(.rst).count)
    }
}

/// The two sockets of the zero-window lab, each opened on its host; any thread may use them.
final class ZeroWindowPeers: @unchecked Sendable {
    let listener: Socket
    let sender: Socket
    let receiver: Socket
    let written: Int
    let receiveBufferBytes: Int
    private let lock = NSLock()
    private var closed = false

    struct Drain { var bytes: Int; var firstReadUnixMicroseconds: Int64 }

    private init(listener: Socket, sender: Socket, receiver: Socket, written: Int, receiveBufferBytes: Int) {
        self.listener = listener
        self.sender = sender
        self.receiver = receiver
        self.written = written
        self.receiveBufferBytes = receiveBufferBytes
    }

    /// Listens with a small SO_RCVBUF (inherited by the accepted socket, so the SYN-ACK already
    /// offers the small window), connects, and writes without blocking until the send buffer is full.
    static func open(listener: Socket, sender: Socket, address: SocketAddress, receiveBuffer: Int, sendBuffer: Int) throws -> ZeroWindowPeers {
        do {
            try listener.setReuseAddress(true)
            try listener.setReceiveBuffer(bytes: receiveBuffer)
            try listener.bind(to: address)
            try listener.listen(backlog: 1)
            try sender.setSendBuffer(bytes: sendBuffer)
            try sender.connect(to: address)
            guard let (receiver, _) = try listener.accept() else { throw LabError.unexpected("accept() found no connection") }
            try sender.setNonBlocking()
            let written = try fill(sender)
            return ZeroWindowPeers(listener: listener, sender: sender, receiver: receiver, written: written,
                                   receiveBufferBytes: (try? receiver.receiveBuffer()) ?? 0)
        } catch {
            listener.close()
            sender.close()
            throw error
        }
    }

    /// Writes 4 KiB chunks until the kernel says EAGAIN (bounded).
    static func fill(_ socket: Socket) throws -> Int {
        let chunk = [UInt8](repeating: 0x7a, count: 4096)
        var written = 0
        for _ in 0..<4096 {
            let count = try chunk.withUnsafeBytes { raw in
                Result { () throws(SystemCallError) -> Int? in try socket.write(raw) }
            }.get()
            guard let count else { break }
            written += count
        }
        return written
    }

    /// Reads everything the sender wrote (non-blocking, bounded by `timeout`).
    func drain(timeout: Double) -> Drain {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        let first = Self.realtimeMicroseconds()
        try? receiver.setNonBlocking()
        let deadline = Date().addingTimeInterval(timeout)
        while total < written, Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { raw in try? receiver.read(into: raw) }
            guard let count else { usleep(1000); continue }
            if count == 0 { break }
            total += count
        }
        return Drain(bytes: total, firstReadUnixMicroseconds: first)
    }

    /// The sender closes first (FIN), once everything was read.
    func closeSender() {
        lock.withLock {
            guard !closed else { return }
            try? sender.shutdown(.write)
        }
    }

    func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            sender.close()
            usleep(20_000)
            receiver.close()
            listener.close()
        }
    }

    /// CLOCK_REALTIME in µs: the clock of the NFLOG timestamps.
    static func realtimeMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}

fileprivate extension Array where Element: Hashable {
    /// The distinct elements in first-seen order.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
