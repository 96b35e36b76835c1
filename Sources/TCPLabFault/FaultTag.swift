/// What one of faultproxy's rules did to a segment, as the rule's NFLOG prefix carries it to the
/// timeline: "tcplab pass", "tcplab drop syn", "tcplab delay data 300ms~5ms", "tcplab duplicate
/// syn 500ms", "tcplab release data 300ms". Rendered here for FaultLinearizer and parsed here for
/// the timeline (CapturedSegment), so the two cannot drift apart.
public struct FaultTag: Hashable, Sendable, CustomStringConvertible {
    public enum Action: String, Hashable, Sendable, CaseIterable {
        case pass, drop, delay, duplicate, release

        public var fate: SegmentFate {
            switch self {
            case .pass: .passed
            case .drop: .dropped
            case .delay: .delayed
            case .duplicate: .duplicated
            case .release: .released
            }
        }
    }

    public var action: Action
    /// The kind the fault named; nil for pass.
    public var kind: SegmentKind?
    /// Delays, duplicates and releases: the nominal hold (or copy delay) and its jitter.
    public var delay: FaultDuration?
    public var jitter: FaultDuration

    public init(_ action: Action, _ kind: SegmentKind? = nil, delay: FaultDuration? = nil, jitter: FaultDuration = .zero) {
        self.action = action
        self.kind = kind
        self.delay = delay
        self.jitter = jitter
    }

    public static let pass = FaultTag(.pass)
    static let marker = "tcplab"

    /// The NFLOG prefix.
    public var description: String {
        var words = [Self.marker, action.rawValue]
        if let kind { words.append(kind.rawValue) }
        if let delay { words.append(TimingSuffix.describe(delay, jitter)) }
        return words.joined(separator: " ")
    }

    /// Parses an NFLOG prefix; nil for a prefix that is not one of ours (another tool's rule).
    /// An unknown kind or a missing timing (an older faultproxy's prefix) leaves them nil.
    public init?(logPrefix: String) {
        let words = logPrefix.split(separator: " ")
        guard words.count >= 2, words[0] == Self.marker, let action = Action(rawValue: String(words[1])) else { return nil }
        self.init(action, words.count >= 3 ? SegmentKind(name: String(words[2])) : nil)
        guard action != .pass else { kind = nil; return }
        if words.count >= 4, action != .drop {
            let parts = words[3].split(separator: "~")
            delay = try? FaultDuration(parsing: String(parts[0]))
            jitter = parts.count > 1 ? (try? FaultDuration(parsing: String(parts[1]))) ?? .zero : .zero
        }
    }

    /// What the timeline makes of a logged record's prefix: ours as parsed, any other (another
    /// tool's rule logging to the same group) a segment that passed.
    public init(recordPrefix: String) { self = FaultTag(logPrefix: recordPrefix) ?? .pass }

    public var fate: SegmentFate { action.fate }

    /// The timeline's `fault_delay_us` and `fault_jitter_us`: nil without a timing.
    public var timingMicroseconds: (delay: Int64, jitter: Int64)? {
        delay.map { (Int64($0.nanoseconds / 1000), Int64(jitter.nanoseconds / 1000)) }
    }
}

/// The comment on each of faultproxy's rules that counts for a report: a fault rule's ("drop
/// synack", "delay data", "duplicate syn": the drop and delay reports sum their counters by it)
/// and the rules that only log for the timeline ("timeline pass", "timeline copy", "timeline
/// release"). Every rule with such a comment counts the segments it logs, so the counters say
/// how many records the kernel logged (`FaultPlan.loggedSegments`).
public enum RuleComment: Hashable, Sendable, CustomStringConvertible {
    /// action is drop, delay or duplicate.
    case fault(FaultTag.Action, SegmentKind)
    case timeline(TimelineRule)

    public enum TimelineRule: String, Hashable, Sendable, CaseIterable {
        /// Every segment that left the fault chain unharmed.
        case pass
        /// A duplicate's copy crossing a hook.
        case copy
        /// A held segment going on.
        case release
    }

    public var description: String {
        switch self {
        case .fault(let action, let kind): "\(action.rawValue) \(kind.rawValue)"
        case .timeline(let rule): "timeline \(rule.rawValue)"
        }
    }

    /// Parses a rule's comment; nil for a comment that is not one of these (or no comment).
    public init?(_ text: String?) {
        let words = text?.split(separator: " ") ?? []
        guard words.count == 2 else { return nil }
        if words[0] == "timeline" {
            guard let rule = TimelineRule(rawValue: String(words[1])) else { return nil }
            self = .timeline(rule)
        } else {
            guard let action = FaultTag.Action(rawValue: String(words[0])), [.drop, .delay, .duplicate].contains(action),
                  let kind = SegmentKind(rawValue: String(words[1])) else { return nil }
            self = .fault(action, kind)
        }
    }

    /// The fault action of a fault rule's comment; nil for the timeline's.
    public var faultAction: FaultTag.Action? {
        if case .fault(let action, _) = self { action } else { nil }
    }
}
