import TCPLabFault
import TCPLabNetlink

/// What the delays and duplicates did, printed after the run (one stderr line; with --json one
/// line `{"queue":{...}}` before the drop report).
///
/// `failed_open` is the segments the queue rules matched but the kernel let pass undelayed
/// because the queue already held `--queue-capacity` segments or the reader's socket buffer was
/// full (NFQA_CFG_F_FAIL_OPEN). The kernel keeps no count of those: it is the rules' counters
/// minus what the reader received.
public struct DelayReport: Encodable, Sendable {
    public var delayed: [String: Int]
    public var duplicated: [String: Int]
    public var copiesSent: Int
    public var failedOpen: UInt64
    public var releasedAtExit: Int
    public var queueNumber: UInt16
    /// Release time minus deadline: p50, p99, max, in µs.
    public var latenessMicroseconds: [String: Double]?

    enum CodingKeys: String, CodingKey {
        case delayed, duplicated
        case copiesSent = "copies_sent"
        case failedOpen = "failed_open"
        case releasedAtExit = "released_at_exit"
        case queueNumber = "queue"
        case latenessMicroseconds = "lateness_us"
    }

    init(engine: DelayEngine, counters: [NFTRuleCounter], plan: FaultPlan) {
        let statistics = engine.statistics
        var delayed: [String: Int] = [:]
        for spec in plan.delays { delayed[spec.kind.rawValue] = 0 }
        for (kind, count) in statistics.delayed { delayed[kind.rawValue] = count }
        var duplicated: [String: Int] = [:]
        for spec in plan.duplicates { duplicated[spec.kind.rawValue] = 0 }
        for (kind, count) in statistics.duplicated { duplicated[kind.rawValue] = count }
        self.delayed = delayed
        self.duplicated = duplicated
        copiesSent = statistics.copiesSent
        releasedAtExit = statistics.releasedAtExit
        queueNumber = engine.queueNumber

        let queuedByRules = counters.filter { counter in
            guard let comment = counter.comment else { return false }
            return comment.hasPrefix("delay ") || comment.hasPrefix("duplicate ")
        }.reduce(UInt64(0)) { $0 + $1.packets }
        let received = UInt64(engine.reader.receivedCount - statistics.lost)
        failedOpen = queuedByRules > received ? queuedByRules - received : 0

        if let p50 = statistics.latenessQuantile(0.5), let p99 = statistics.latenessQuantile(0.99),
           let maximum = statistics.latenessQuantile(1) {
            latenessMicroseconds = ["p50": Self.micro(p50), "p99": Self.micro(p99), "max": Self.micro(maximum)]
        }
    }

    private static func micro(_ nanoseconds: UInt64) -> Double { (Double(nanoseconds) / 100).rounded() / 10 }

    /// "delayed 1 synack; duplicated 1 syn (1 copy sent); 0 passed undelayed (queue full); late by p50 0.06 ms, p99 0.2 ms"
    public var summary: String {
        func counts(_ table: [String: Int]) -> String {
            table.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        var parts: [String] = []
        if !delayed.isEmpty { parts.append("delayed \(counts(delayed))") }
        if !duplicated.isEmpty { parts.append("duplicated \(counts(duplicated)) (\(copiesSent) \(copiesSent == 1 ? "copy" : "copies") sent)") }
        parts.append("\(failedOpen) passed undelayed (queue full)")
        if releasedAtExit > 0 { parts.append("\(releasedAtExit) released early at exit") }
        if let lateness = latenessMicroseconds, let p50 = lateness["p50"], let p99 = lateness["p99"], let maximum = lateness["max"] {
            parts.append("released late by p50 \(p50 / 1000) ms, p99 \(p99 / 1000) ms, max \(maximum / 1000) ms")
        }
        return parts.joined(separator: "; ")
    }
}

/// The JSON line: `{"queue":{...}}`.
public struct DelayReportLine: Encodable {
    public var queue: DelayReport
    public init(queue: DelayReport) { self.queue = queue }
}
