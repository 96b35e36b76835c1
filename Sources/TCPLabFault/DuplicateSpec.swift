/// `--duplicate SEG[:N|@K][=DURATION[~JITTER]]`: send the segment and a copy; the copy follows
/// after the given delay (immediately without one).
public struct DuplicateSpec: SelectsSegments, Hashable, Sendable, CustomStringConvertible {
    public var selector: SegmentSelector
    public var copyDelay: FaultDuration
    public var jitter: FaultDuration

    public init(_ kind: SegmentKind, _ selection: SegmentSelection = .all, copyDelay: FaultDuration = .zero, jitter: FaultDuration = .zero) {
        self.selector = SegmentSelector(kind: kind, selection: selection)
        self.copyDelay = copyDelay
        self.jitter = jitter
    }

    public init(parsing text: String) throws(FaultSpecError) {
        guard let equals = text.firstIndex(of: "=") else {
            self.selector = try SegmentSelector(parsing: text, allowProbability: false)
            (copyDelay, jitter) = (.zero, .zero)
            return
        }
        self.selector = try SegmentSelector(parsing: String(text[..<equals]), allowProbability: false)
        (copyDelay, jitter) = try TimingSuffix.parse(String(text[text.index(after: equals)...]), in: text)
    }

    public var description: String {
        copyDelay == .zero && jitter == .zero ? selector.description : "\(selector)=\(TimingSuffix.describe(copyDelay, jitter))"
    }
}
