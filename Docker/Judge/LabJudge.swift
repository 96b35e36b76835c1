import Foundation
import TCPLab
import TCPLabSchema

/// Judges one lab run: waits for the client and faultproxy to finish (watching socket states
/// while they run where the lab needs it), then compares with the model.
struct LabJudge {
    var lab: DockerLab
    var parameters: KernelSysctls
    var results: ResultsDirectory
    var timeout: Double
    var port: UInt16 = 7000
    /// Per-socket keepalive the server was started with (idle, interval, count), when not the sysctls.
    var keepalive: (idle: Double, interval: Double, count: Int)?
    /// The client runs on another host (two-hosts.yml): its sockets are out of sight, so the labs
    /// that need them judge the client from faultproxy's pcap and the server's sockets instead.
    var remoteClient = false
    var tolerance = TimingTolerance.forTick()

    let census: SocketCensus

    func judge() throws -> Verdict {
        try results.wait(for: "faultproxy.ready", timeout: timeout)
        var verdict = Verdict()
        // Watch while the client runs, for the labs whose point is a state it leaves behind.
        let watched = lab == .ackLost ? watchUntilClientExits(side: .server, state: "SYN_RECV") : nil
        // FIN_WAIT_2 starts when the server's (possibly delayed) ACK of the FIN arrives, not at close():
        // watch the state itself, from before the client starts until it is gone.
        // On two hosts the server's side of fin-lost: ESTABLISHED until the client's third FIN arrives.
        let serverEstablished = lab == .finLost && remoteClient ? watchEstablished(side: .server) : nil
        let finWait2 = lab == .closeWaitLeak
            ? watchSpan(side: .client, state: "FIN_WAIT2", within: Double(parameters["tcp_fin_timeout"] ?? 60) + 10) : nil
        try results.wait(for: "client.status", timeout: timeout)
        let clientEnded = results.ended("client") ?? Date()
        let client = ClientReport(report: results.decode(EchoClientReport.self, from: "client.out", having: "connect_ms"),
                                  status: results.status("client") ?? -1)

        switch lab {
        case .synLost:
            let schedule = synSchedule
            verdict.expectFailure(client, "ETIMEDOUT")
            try finishFaultProxy(&verdict, expecting: ["syn": schedule.transmissions...schedule.transmissions])
            if let wire = wire(&verdict) { judgeSynSchedule(&verdict, wire, client: client) }
        case .synackLost:
            let syn = synSchedule
            let synAck = synAckSchedule
            verdict.expectFailure(client, "ETIMEDOUT")
            // The listener's own timer sends the SYN-ACKs of its schedule while the client still
            // tries; each retransmitted SYN may draw one more (inet_rtx_syn_ack).
            let timerDriven = 1 + synAck.retransmissions.filter { $0 < syn.giveUp }.count
            try finishFaultProxy(&verdict, expecting: ["synack": timerDriven...(timerDriven + syn.retransmissions.count)])
            if let wire = wire(&verdict) {
                judgeSynSchedule(&verdict, wire, client: client)
                judgeRequestTimer(&verdict, wire)
            }
        case .ackLost:
            verdict.expectSuccess(client)
            // The SYN-ACK arrives, so connect() returns without waiting for any SYN retransmission.
            let firstRetry = synSchedule.retransmissions.first ?? RetransmissionModel.initialRTO
            verdict.add("connect() returns before any SYN retransmission", predicted: "< +\(TimingTolerance.format(firstRetry)) s",
                        observed: client.connectSeconds.map { "+\(TimingTolerance.format($0)) s" } ?? "never",
                        passed: client.connectSeconds.map { $0 < firstRetry } ?? false)
            let hold = Self.holdSeconds(results.text("client.cmd")) ?? 0
            let retransmitted = synAckSchedule.retransmissions.filter { $0 < hold }
            // Sampled from outside the peers: each end of the span is known to within one sampling gap.
            verdict.time("server in SYN_RECV until the data arrives (sampled every ≤ \(Int((watched?.largestGap ?? 0) * 1000)) ms)",
                         expected: hold, observed: watched?.span, timers: [], resolution: 2 * (watched?.largestGap ?? 0.05), tolerance: tolerance)
            // The first ACK, and the client's re-ACK of each SYN-ACK the server retransmits while the client holds.
            let acks = 1 + retransmitted.count
            try finishFaultProxy(&verdict, expecting: ["handshake-ack": acks...acks])
        case .finLost where remoteClient:
            verdict.expectSuccess(client)
            try finishFaultProxy(&verdict, expecting: ["fin": 2...2])
            judgeRemoteFinLost(&verdict, client: client, serverEstablished: serverEstablished)
        case .finLost:
            try judgeFinLost(&verdict, client: client, clientEnded: clientEnded)
        case .timeWait:
            try judgeTimeWait(&verdict, client: client, clientEnded: clientEnded)
        case .closeWaitLeak:
            verdict.expectSuccess(client)
            let finTimeout = Double(parameters["tcp_fin_timeout"] ?? 60)
            verdict.time("client in FIN_WAIT_2 (orphaned: tcp_fin_timeout; sampled every ≤ \(Int((finWait2?.largestGap ?? 0) * 1000)) ms)",
                         expected: finTimeout, observed: finWait2?.span, timers: [finTimeout],
                         resolution: 2 * (finWait2?.largestGap ?? 0.05), tolerance: tolerance)
            let closeWait = census.count(.server, state: "CLOSE_WAIT")
            verdict.add("server sockets still in CLOSE_WAIT after that", predicted: "1", observed: String(closeWait),
                        passed: closeWait == 1)
            try finishFaultProxy(&verdict, expecting: [:])
        case .clientDeadKeepalive:
            let (idle, interval, count) = keepaliveSettings
            verdict.expectFailure(client, "ECONNRESET")
            try finishFaultProxy(&verdict, expecting: ["keepalive-ack": count...count])
            if let wire = wire(&verdict) { judgeKeepalive(&verdict, wire, idle: idle, interval: interval, count: count) }
        }
        return verdict
    }

    /// fin-lost with both ends here: the client's FIN is lost twice; TIME_WAIT once the third passes.
    func judgeFinLost(_ verdict: inout Verdict, client: ClientReport, clientEnded: Date) throws {
        verdict.expectSuccess(client)
        // The FIN goes out at close() and is lost twice. Each retransmission comes at most one
        // backed-off RTO after the previous (RTO, then 2·RTO); a tail loss probe (tcp_early_retrans)
        // may send the first one sooner, never later. So the third FIN, and TIME_WAIT, come by RTO + 2·RTO.
        let rto = client.rtoSeconds ?? 0.2
        let dropped = 2
        let timers = (0..<dropped).map { rto * Double(1 << $0) }
        let latest = timers.reduce(0, +)
        let allowed = tolerance.allowance(timers: timers)
        let appeared = waitForState(.client, "TIME_WAIT", from: clientEnded, within: latest + 3)
        verdict.add("client reaches TIME_WAIT once its 3rd FIN passes (after close())",
                    predicted: "≤ +\(TimingTolerance.format(latest)) s + \(TimingTolerance.format(allowed))",
                    observed: appeared.map { "+\(TimingTolerance.format($0)) s" } ?? "never",
                    passed: appeared.map { $0 <= latest + allowed } ?? false)
        try finishFaultProxy(&verdict, expecting: ["fin": dropped...dropped])
    }

    /// time-wait: one TIME_WAIT socket on the active closer, its timer running down from 60 s.
    func judgeTimeWait(_ verdict: inout Verdict, client: ClientReport, clientEnded: Date) throws {
        verdict.expectSuccess(client)
        let sockets = census.sockets(.client, state: "TIME_WAIT")
        let since = Date().timeIntervalSince(clientEnded)
        verdict.add("TIME_WAIT sockets on the active closer (client)", predicted: "1", observed: String(sockets.count),
                    passed: sockets.count == 1)
        let serverSide = census.count(.server, state: "TIME_WAIT")
        verdict.add("TIME_WAIT sockets on the passive closer (server)", predicted: "0", observed: String(serverSide),
                    passed: serverSide == 0)
        // TCP_TIMEWAIT_LEN is compiled in (60 s); sock_diag gives the time left in ms.
        let length = 60.0
        let remaining = sockets.first?.timerSeconds
        let allowed = tolerance.allowance(timers: [length])
        let expected = length - since
        verdict.add("TIME_WAIT timer left, \(TimingTolerance.format(since)) s after close()",
                    predicted: "\(TimingTolerance.format(expected)) s ± \(TimingTolerance.format(allowed))",
                    observed: remaining.map { "\(TimingTolerance.format($0)) s" } ?? "none",
                    passed: remaining.map { abs($0 - expected) <= allowed } ?? false)
        try finishFaultProxy(&verdict, expecting: [:])
    }

    /// fin-lost with the client on another host, from what the server's host saw: the client's
    /// FINs in faultproxy's pcap (kernel timestamps at arrival), the server's socket states, and
    /// the client's last ACK, which it sends as it enters TIME_WAIT.
    func judgeRemoteFinLost(_ verdict: inout Verdict, client: ClientReport,
                            serverEstablished: (seen: Date, gone: Date, largestGap: Double)?) {
        guard let wire = wire(&verdict) else { return }
        let dropped = 2
        // The client's FINs arrive on the server's port; every one reaches the server's host (lost there).
        let fins = wire.filter { $0.destinationPort == port && $0.fin && !$0.syn }
        verdict.add("client FINs reaching the server's host (pcap)", predicted: "\(dropped + 1) (\(dropped) lost, 1 passes)",
                    observed: String(fins.count), passed: fins.count == dropped + 1)
        let rto = client.rtoSeconds ?? 0.2
        // Each retransmission at most one backed-off RTO after the previous (RTO, then 2·RTO); a tail
        // loss probe may send the first sooner, never later.
        let timers = (0..<dropped).map { rto * Double(1 << $0) }
        for n in 1...dropped where n < fins.count {
            let bound = timers.prefix(n).reduce(0, +)
            let allowed = tolerance.allowance(timers: Array(timers.prefix(n)))
            let observed = fins[n].time - fins[0].time
            verdict.add("FIN retransmission \(n) after the first FIN (RTO \(TimingTolerance.format(rto)) s, TCP_INFO)",
                        predicted: "≤ +\(TimingTolerance.format(bound)) s + \(TimingTolerance.format(allowed))",
                        observed: "+\(TimingTolerance.format(observed)) s", passed: observed > 0 && observed <= bound + allowed)
        }
        // The server stays ESTABLISHED while the FINs are lost, and leaves it when the one that passes arrives.
        if fins.count == dropped + 1, let first = fins.first, let passing = fins.last {
            let expected = passing.time - first.time
            let gap = serverEstablished?.largestGap ?? 0.05
            let allowed = tolerance.allowance(timers: [], resolutionSeconds: 2 * gap)
            let observed = serverEstablished.map { $0.gone.timeIntervalSince1970 - first.time }
            verdict.add("server leaves ESTABLISHED when FIN \(dropped + 1) arrives (after the first FIN; sampled every ≤ \(Int(gap * 1000)) ms)",
                        predicted: "+\(TimingTolerance.format(expected)) s ± \(TimingTolerance.format(allowed))",
                        observed: observed.map { "+\(TimingTolerance.format($0)) s" } ?? "never",
                        passed: observed.map { abs($0 - expected) <= allowed } ?? false)
        }
        // The server closes in turn; the client ACKs that FIN as it enters TIME_WAIT (tcp_time_wait).
        let serverFin = wire.first { $0.sourcePort == port && $0.fin && !$0.syn }
        let lastAck = serverFin.flatMap { fin in
            wire.first { $0.destinationPort == port && $0.ack && !$0.fin && $0.time >= fin.time && $0.acknowledgment == fin.sequence &+ 1 }
        }
        verdict.add("client ACKs the server's FIN (it enters TIME_WAIT; pcap)", predicted: "yes",
                    observed: serverFin == nil ? "no FIN from the server"
                        : lastAck.map { a in "+\(TimingTolerance.format(a.time - serverFin!.time)) s after the server's FIN" } ?? "no ACK of it",
                    passed: lastAck != nil)
        let left = census.states(.server)
        verdict.add("server sockets left (LAST_ACK ended by that ACK)", predicted: "none",
                    observed: left.isEmpty ? "none" : left.joined(separator: ", "), passed: left.isEmpty)
    }

    // MARK: the model, from this namespace's sysctls

    var synSchedule: RetransmissionSchedule { parameters.kernel.syn }

    var synAckSchedule: RetransmissionSchedule { parameters.kernel.synAck }

    var keepaliveSettings: (Double, Double, Int) {
        if let keepalive { return (keepalive.idle, keepalive.interval, keepalive.count) }
        return (Double(parameters["tcp_keepalive_time"] ?? 7200), Double(parameters["tcp_keepalive_intvl"] ?? 75),
                parameters["tcp_keepalive_probes"] ?? 9)
    }

    // MARK: observing

    /// Waits for faultproxy's exit and checks its drop report against `expecting` (kind → allowed counts).
    func finishFaultProxy(_ verdict: inout Verdict, expecting: [String: ClosedRange<Int>]) throws {
        try results.wait(for: "faultproxy.status", timeout: timeout)
        let status = results.status("faultproxy") ?? -1
        verdict.add("faultproxy exit status", predicted: "0", observed: String(status), passed: status == 0)
        let dropped = results.decode(DropReport.self, from: "faultproxy.out", having: "dropped")?.dropped ?? [:]
        for (kind, range) in expecting.sorted(by: { $0.key < $1.key }) {
            let observed = Int(dropped[kind] ?? 0)
            let predicted = range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound)–\(range.upperBound)"
            verdict.add("\(kind) segments dropped", predicted: predicted, observed: String(observed), passed: range.contains(observed))
        }
        if expecting.isEmpty {
            let total = dropped.values.reduce(0, +)
            verdict.add("segments dropped (faultproxy only watches)", predicted: "0", observed: String(total), passed: total == 0)
        }
    }

    /// How long a state was seen on one side while the client ran, and the largest gap between
    /// two samples (each sock_diag dump takes a little on top of the 10 ms pause).
    func watchUntilClientExits(side: SocketCensus.Side, state: String) -> (span: Double, largestGap: Double)? {
        var first: Date?
        var last: Date?
        var previous: Date?
        var largestGap = 0.0
        let deadline = Date().addingTimeInterval(timeout)
        while !results.exists("client.status"), Date() < deadline {
            let seen = census.count(side, state: state) > 0
            let now = Date()
            if let previous { largestGap = max(largestGap, now.timeIntervalSince(previous)) }
            previous = now
            if seen {
                if first == nil { first = now }
                last = now
            }
            usleep(10_000)
        }
        guard let first, let last else { return nil }
        return (last.timeIntervalSince(first), largestGap)
    }

    /// From when a socket in `state` first shows up on `side` until none is left (sampled every
    /// 10 ms plus the dump), with the largest gap between samples; nil if it never
    /// showed up or never went within `within` seconds.
    func watchSpan(side: SocketCensus.Side, state: String, within: Double) -> (span: Double, largestGap: Double)? {
        var first: Date?
        var previous: Date?
        var largestGap = 0.0
        let deadline = Date().addingTimeInterval(within)
        while Date() < deadline {
            let seen = census.count(side, state: state) > 0
            let now = Date()
            if let previous { largestGap = max(largestGap, now.timeIntervalSince(previous)) }
            previous = now
            if seen, first == nil { first = now }
            if !seen, let first { return (now.timeIntervalSince(first), largestGap) }
            usleep(10_000)
        }
        return nil
    }

    /// From before the client connects: when an ESTABLISHED socket first shows up on `side` and when
    /// none is left, with the largest gap between samples; nil if it never showed up or never went.
    func watchEstablished(side: SocketCensus.Side) -> (seen: Date, gone: Date, largestGap: Double)? {
        var seen: Date?
        var previous: Date?
        var largestGap = 0.0
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let established = census.count(side, state: "ESTABLISHED") > 0
            let now = Date()
            if let previous { largestGap = max(largestGap, now.timeIntervalSince(previous)) }
            previous = now
            if established, seen == nil { seen = now }
            if !established, let seen { return (seen, now, largestGap) }
            // The client gave up without connecting: nothing to watch.
            if seen == nil, results.exists("client.status") { return nil }
            usleep(10_000)
        }
        return nil
    }

    /// Seconds from `from` until a socket in `state` shows up on `side`, or nil within `within` s.
    func waitForState(_ side: SocketCensus.Side, _ state: String, from: Date, within: Double) -> Double? {
        let deadline = from.addingTimeInterval(within)
        while Date() < deadline {
            if census.count(side, state: state) > 0 { return Date().timeIntervalSince(from) }
            usleep(5_000)
        }
        return nil
    }

    /// The value of `--hold` in the client's command line ("2.5s" → 2.5).
    static func holdSeconds(_ commandLine: String?) -> Double? {
        guard let words = commandLine?.split(whereSeparator: \.isWhitespace), let index = words.firstIndex(of: "--hold"),
              index + 1 < words.count else { return nil }
        var text = words[index + 1]
        var scale = 1.0
        if text.hasSuffix("ms") { text = text.dropLast(2); scale = 0.001 } else if text.hasSuffix("s") { text = text.dropLast() }
        return Double(text).map { $0 * scale }
    }
}

/// echo-client's `--json` report and exit status.
struct ClientReport {
    var report: EchoClientReport?
    var status: Int32

    var error: String? { report?.error }
    var echoOK: Bool { report?.echoOK ?? false }
    var connectSeconds: Double? { report?.connectMilliseconds.map { $0 / 1000 } }
    var elapsedSeconds: Double? { report.map { $0.elapsedMilliseconds / 1000 } }
    var rtoSeconds: Double? { report?.tcpInfo.map { Double($0.rtoMicroseconds) / 1_000_000 } }
}

extension Verdict {
    mutating func expectSuccess(_ client: ClientReport) {
        add("echo-client exit status, echo", predicted: "0, echo ok",
            observed: "\(client.status), \(client.echoOK ? "echo ok" : client.error ?? "no echo")",
            passed: client.status == 0 && client.echoOK)
    }

    mutating func expectFailure(_ client: ClientReport, _ errno: String) {
        add("echo-client error", predicted: errno, observed: client.error ?? "none (exit \(client.status))",
            passed: client.error == errno)
    }

    /// A timing row judged by the one judge (TCPLabModel's `TimingTolerance.judge`) for the
    /// `timers` leading to it; `resolution` for an observation that is itself sampled.
    mutating func time(_ what: String, expected: Double, observed: Double?, timers: [Double], resolution: Double = 0,
                       tolerance: TimingTolerance) {
        add(tolerance.judge(what, expected: expected, observed: observed, timers: timers, resolutionSeconds: resolution))
    }

    /// A row for one of the judge's verdicts.
    mutating func add(_ judgement: TimingJudgement) {
        guard let observed = judgement.observed else {
            add(judgement.what, predicted: "+\(TimingTolerance.format(judgement.expected)) s", observed: "never", passed: false,
                note: judgement.failure)
            return
        }
        add(judgement.what, predicted: "+\(TimingTolerance.format(judgement.expected)) s \(judgement.window)",
            observed: "+\(TimingTolerance.format(observed)) s", passed: judgement.passed, note: judgement.failure)
    }
}

extension ResultsDirectory {
    /// When tcplab-step started the piece's command (NAME.started, epoch seconds).
    func startedDate(_ piece: String) -> Date? {
        text("\(piece).started").flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            .map { Date(timeIntervalSince1970: $0) }
    }
}
