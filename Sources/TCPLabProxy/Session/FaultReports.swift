import TCPLabFault
import TCPLabNetlink

extension DropReport {
    /// Sums the drop rules' counters by the kind their comment names (`RuleComment`); every
    /// dropped kind of the plan is listed, 0 when nothing was dropped.
    public init(counters: [NFTRuleCounter], plan: FaultPlan) {
        var dropped: [String: UInt64] = [:]
        for spec in plan.drops { dropped[spec.kind.rawValue] = 0 }
        for counter in counters {
            guard case .fault(.drop, let kind) = RuleComment(counter.comment) else { continue }
            dropped[kind.rawValue, default: 0] += counter.packets
        }
        self.init(dropped: dropped)
    }
}

extension DelayReport {
    init(engine: DelayEngine, counters: [NFTRuleCounter], plan: FaultPlan) {
        let statistics = engine.statistics
        var delayed: [String: Int] = [:]
        for spec in plan.delays { delayed[spec.kind.rawValue] = 0 }
        for (kind, count) in statistics.delayed { delayed[kind.rawValue] = count }
        var duplicated: [String: Int] = [:]
        for spec in plan.duplicates { duplicated[spec.kind.rawValue] = 0 }
        for (kind, count) in statistics.duplicated { duplicated[kind.rawValue] = count }

        let queuedByRules = counters.filter { counter in
            guard let action = RuleComment(counter.comment)?.faultAction else { return false }
            return action == .delay || action == .duplicate
        }.reduce(UInt64(0)) { $0 + $1.packets }
        let received = UInt64(engine.reader.receivedCount - statistics.lost)

        var lateness: [String: Double]?
        if let p50 = statistics.latenessQuantile(0.5), let p99 = statistics.latenessQuantile(0.99),
           let maximum = statistics.latenessQuantile(1) {
            lateness = ["p50": Self.micro(p50), "p99": Self.micro(p99), "max": Self.micro(maximum)]
        }
        self.init(delayed: delayed, duplicated: duplicated, copiesSent: statistics.copiesSent,
                  failedOpen: queuedByRules > received ? queuedByRules - received : 0,
                  releasedAtExit: statistics.releasedAtExit, queueNumber: engine.queueNumber, latenessMicroseconds: lateness)
    }

    private static func micro(_ nanoseconds: UInt64) -> Double { (Double(nanoseconds) / 100).rounded() / 10 }
}
