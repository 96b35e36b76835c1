/// A judged timing to draw beside a ladder: when the model expected an event, when it happened,
/// and the tolerance allowed around the expectation. Absolute times (µs since the Unix epoch,
/// like the timeline's `unix_us`), so a judgement lands on the ladder whatever origin the check
/// measured its offsets from.
public struct LadderJudgement: Sendable, Equatable {
    public var label: String
    public var expectedUnixMicroseconds: Int64
    /// nil: the event never happened.
    public var observedUnixMicroseconds: Int64?
    public var toleranceMicroseconds: Int64
    public var passed: Bool

    public init(label: String, expectedUnixMicroseconds: Int64, observedUnixMicroseconds: Int64?,
                toleranceMicroseconds: Int64, passed: Bool) {
        self.label = label
        self.expectedUnixMicroseconds = expectedUnixMicroseconds
        self.observedUnixMicroseconds = observedUnixMicroseconds
        self.toleranceMicroseconds = toleranceMicroseconds
        self.passed = passed
    }
}
