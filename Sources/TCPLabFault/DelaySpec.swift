/// `--delay SEG[:N|@K]=DURATION[~JITTER]`: hold the named segments before they go on.
/// Linearized to a queue verdict; the delay itself is applied by the queue reader.
public struct DelaySpec: SelectsSegments, Hashable, Sendable, CustomStringConvertible {
    public var selector: SegmentSelector
    public var delay: FaultDuration
    /// Each segment waits `delay ± jitter` (uniform), never less than zero.
    public var jitter: FaultDuration

    public init(_ kind: SegmentKind, _ selection: SegmentSelection = .all, delay: FaultDuration, jitter: FaultDuration = .zero) {
        self.selector = SegmentSelector(kind: kind, selection: selection)
        self.delay = delay
        self.jitter = jitter
    }

    public init(parsing text: String) throws(FaultSpecError) {
        guard let equals = text.firstIndex(of: "=") else {
            throw FaultSpecError("'\(text)': --delay needs SEG=DURATION, e.g. synack=300ms or data=100ms~5ms")
        }
        self.selector = try SegmentSelector(parsing: String(text[..<equals]), allowProbability: false)
        (delay, jitter) = try TimingSuffix.parse(String(text[text.index(after: equals)...]), in: text)
        if delay == .zero && jitter == .zero {
            throw FaultSpecError("'\(text)': a delay of 0 holds nothing; give a duration such as \(selector)=300ms")
        }
    }

    public var description: String { "\(selector)=\(TimingSuffix.describe(delay, jitter))" }
}
