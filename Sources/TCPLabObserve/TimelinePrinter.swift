import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Shows the timeline as it happens: JSON lines on stdout, or one readable line per segment and
/// state change on stdout followed by the whole ladder at the end. Colour only on a terminal.
/// How a watch shows its timeline on stdout.
public enum TimelineFormat: String, CaseIterable, Sendable {
    /// One readable line per segment and state change, then the ladder.
    case text
    /// JSON lines (`TimelineRecord`, docs/timeline-json.md).
    case json
}

public final class TimelinePrinter {
    public let format: TimelineFormat?
    let colour = isatty(STDOUT_FILENO) == 1
    /// Live text offsets count from the first thing shown, segment or state, so both agree.
    private var originUnixMicroseconds: Int64?

    public init(format: TimelineFormat?) { self.format = format }

    public func print(segments: [TimelineEvent]) {
        guard let first = segments.first else { return }
        switch format {
        case .json:
            var lines: [UInt8] = []
            lines.reserveCapacity(segments.count * 512)
            for event in segments { event.appendJSONLine(to: &lines) }
            JSONLines.emit(encodedLines: lines)
        case .text: for event in segments { Swift.print(event.summary) }
        case nil: break
        }
        if originUnixMicroseconds == nil { originUnixMicroseconds = first.timeUnixMicroseconds - first.offsetMicroseconds }
    }

    public func print(kernel events: [KernelEvent]) {
        for event in events {
            switch format {
            case .json: JSONLines.emit(TimelineRecord.kernel(event.record))
            case .text: Swift.print("  ⚑ " + event.summary)
            case nil: break
            }
        }
    }

    public func print(states: [SocketTransition]) {
        for var change in states {
            switch format {
            case .json: JSONLines.emit(TimelineRecord.state(change.record))
            case .text:
                let origin = originUnixMicroseconds ?? change.timeUnixMicroseconds
                originUnixMicroseconds = origin
                change.offsetMicroseconds = change.timeUnixMicroseconds - origin
                Swift.print(change.description)
            case nil: break
            }
        }
    }

    /// The ladder of the whole run, after the live lines.
    /// `capture`: how complete the timeline is (the JSON's last line; under the ladder when
    /// something was missed).
    public func finish(_ watch: ObservationSession, capture: TimelineCapture? = nil) {
        if format == .json, let capture { JSONLines.emit(TimelineRecord.capture(capture)) }
        guard format == .text, !watch.events.isEmpty else { return }
        Swift.print("")
        Swift.print(watch.ladder(colour: colour), terminator: "")
        if let capture, capture.missed > 0 { Swift.print("✗ " + capture.summary) }
    }
}
