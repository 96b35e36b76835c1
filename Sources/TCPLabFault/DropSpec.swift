/// `--drop SEG[:N|@K|%P]`: lose the named segments on the wire.
public struct DropSpec: SelectsSegments, Hashable, Sendable, CustomStringConvertible {
    public var selector: SegmentSelector

    public init(_ kind: SegmentKind, _ selection: SegmentSelection = .all) {
        self.selector = SegmentSelector(kind: kind, selection: selection)
    }

    public init(parsing text: String) throws(FaultSpecError) {
        if text.contains("=") {
            throw FaultSpecError("'\(text)': --drop takes no '=DURATION' (that is --delay)")
        }
        self.selector = try SegmentSelector(parsing: text)
    }

    public var description: String { selector.description }
}
