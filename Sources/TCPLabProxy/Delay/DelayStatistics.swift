import TCPLabFault

/// What the queue did during a run, for the final report.
struct DelayStatistics {
    var delayed: [SegmentKind: Int] = [:]
    var duplicated: [SegmentKind: Int] = [:]
    var copiesSent = 0
    /// Copies that came back through the queue and were let pass.
    var copiesSeen = 0
    var copiesAbandoned = 0
    var releasedAtExit = 0
    /// Queued segments without a tag of ours (another rule queued to our number): let pass.
    var untagged = 0
    /// This host's own segments a drop queued, then dropped (loss on the wire to their sender).
    var lost = 0
    /// How late each release or copy was against its deadline, in ns (the most recent 100 000).
    private(set) var lateness: [UInt64] = []

    mutating func count(delayed kind: SegmentKind) { delayed[kind, default: 0] += 1 }
    mutating func count(duplicated kind: SegmentKind) { duplicated[kind, default: 0] += 1 }

    mutating func record(lateness nanoseconds: UInt64) {
        if lateness.count >= 100_000 { lateness.removeFirst(lateness.count / 2) }
        lateness.append(nanoseconds)
    }

    /// The q-quantile of lateness (nearest rank), nil before any release.
    func latenessQuantile(_ q: Double) -> UInt64? {
        guard !lateness.isEmpty else { return nil }
        let sorted = lateness.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
