import TCPLabFault
import TCPLabNetlink

/// How many segments of each kind the kernel dropped, summed from the drop rules' counters
/// (their comments name the kind: "drop synack:2 #1").
public struct DropReport: Encodable, Sendable {
    public var dropped: [String: UInt64]

    public init(counters: [NFTRuleCounter], plan: FaultPlan) {
        var dropped: [String: UInt64] = [:]
        for spec in plan.drops { dropped[spec.kind.rawValue] = 0 }
        for counter in counters {
            guard let comment = counter.comment, comment.hasPrefix("drop ") else { continue }
            let selector = comment.dropFirst("drop ".count).prefix { $0 != " " }
            let kind = selector.prefix { !":@%".contains($0) }
            dropped[String(kind), default: 0] += counter.packets
        }
        self.dropped = dropped
    }

    public var summary: String {
        guard !dropped.isEmpty else { return "nothing was dropped" }
        return "dropped " + dropped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }
}
