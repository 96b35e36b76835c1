/// What the delays and duplicates did, printed after the run (one stderr line; with --json one
/// line `{"queue":{...}}` before the drop report). TCPLabProxy fills it in from its delay engine.
///
/// `failed_open` is the segments the queue rules matched but the kernel let pass undelayed
/// because the queue already held `--queue-capacity` segments or the reader's socket buffer was
/// full (NFQA_CFG_F_FAIL_OPEN). The kernel keeps no count of those: it is the rules' counters
/// minus what the reader received.
public struct DelayReport: Codable, Sendable, Equatable {
    public var delayed: [String: Int]
    public var duplicated: [String: Int]
    public var copiesSent: Int
    public var failedOpen: UInt64
    public var releasedAtExit: Int
    public var queueNumber: UInt16
    /// Release time minus deadline: p50, p99, max, in µs.
    public var latenessMicroseconds: [String: Double]?

    public init(delayed: [String: Int], duplicated: [String: Int], copiesSent: Int, failedOpen: UInt64,
                releasedAtExit: Int, queueNumber: UInt16, latenessMicroseconds: [String: Double]?) {
        self.delayed = delayed
        self.duplicated = duplicated
        self.copiesSent = copiesSent
        self.failedOpen = failedOpen
        self.releasedAtExit = releasedAtExit
        self.queueNumber = queueNumber
        self.latenessMicroseconds = latenessMicroseconds
    }

    enum CodingKeys: String, CodingKey {
        case delayed, duplicated
        case copiesSent = "copies_sent"
        case failedOpen = "failed_open"
        case releasedAtExit = "released_at_exit"
        case queueNumber = "queue"
        case latenessMicroseconds = "lateness_us"
    }

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
public struct DelayReportLine: Codable, Sendable, Equatable {
    public var queue: DelayReport
    public init(queue: DelayReport) { self.queue = queue }
}
