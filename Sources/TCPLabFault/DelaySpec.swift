/// `--delay SEG[:N|@K]=DURATION[~JITTER]`: hold the named segments before they go on.
/// Linearized to a queue verdict; the delay itself is applied by the queue reader.
public struct DelaySpec: Hashable, Sendable, CustomStringConvertible {
    public var selector: SegmentSelector
    public var delay: FaultDuration
    /// Each segment waits `delay ± jitter` (uniform), never less than zero.
    public var jitter: FaultDuration
    public var kind: SegmentKind { selector.kind }
    public var selection: SegmentSelection { selector.selection }

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
    }

    public var description: String { "\(selector)=\(TimingSuffix.describe(delay, jitter))" }
}

/// `--duplicate SEG[:N|@K][=DURATION[~JITTER]]`: send the segment and a copy; the copy follows
/// after the given delay (immediately without one).
public struct DuplicateSpec: Hashable, Sendable, CustomStringConvertible {
    public var selector: SegmentSelector
    public var copyDelay: FaultDuration
    public var jitter: FaultDuration
    public var kind: SegmentKind { selector.kind }
    public var selection: SegmentSelection { selector.selection }

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

/// "DURATION[~JITTER]" after the `=`.
enum TimingSuffix {
    static func parse(_ text: String, in spec: String) throws(FaultSpecError) -> (FaultDuration, FaultDuration) {
        let parts = text.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw FaultSpecError("'\(spec)': expected DURATION or DURATION~JITTER after '=', e.g. 100ms~5ms")
        }
        let delay: FaultDuration
        let jitter: FaultDuration
        do {
            delay = try FaultDuration(parsing: String(parts[0]))
            jitter = parts.count == 2 ? try FaultDuration(parsing: String(parts[1])) : .zero
        } catch {
            throw FaultSpecError("'\(spec)': \(error.description)")
        }
        return (delay, jitter)
    }

    static func describe(_ delay: FaultDuration, _ jitter: FaultDuration) -> String {
        jitter == .zero ? delay.description : "\(delay)~\(jitter)"
    }
}
