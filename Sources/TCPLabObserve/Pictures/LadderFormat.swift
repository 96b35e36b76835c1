/// How a ladder is drawn: the terminal's text, an SVG picture or a Mermaid diagram.
public enum LadderFormat: String, CaseIterable, Sendable {
    case text, svg, mermaid

    /// The file name ending for this format.
    public var fileExtension: String {
        switch self {
        case .text: "txt"
        case .svg: "svg"
        case .mermaid: "mmd"
        }
    }

    /// The ladder of `events` and `transitions` in this format; `judgements` are drawn by the SVG only.
    public func render(events: [TimelineEvent], transitions: [SocketTransition], kernelEvents: [KernelEvent] = [],
                       judgements: [LadderJudgement] = [], title: String? = nil, colour: Bool = false,
                       originUnixMicroseconds: Int64? = nil) -> String {
        switch self {
        case .text:
            LadderView(colour: colour).render(events: events, transitions: transitions, kernelEvents: kernelEvents,
                                              originUnixMicroseconds: originUnixMicroseconds)
        case .svg:
            SVGLadderView(title: title).render(events: events, transitions: transitions, kernelEvents: kernelEvents,
                                               judgements: judgements, originUnixMicroseconds: originUnixMicroseconds)
        case .mermaid:
            MermaidLadderView().render(events: events, transitions: transitions, kernelEvents: kernelEvents,
                                       originUnixMicroseconds: originUnixMicroseconds)
        }
    }
}

/// `--ladder FORMAT[=PATH]`: a format, and where to write it (nil: stdout, in place of the text ladder).
public struct LadderRequest: Sendable, Equatable {
    public var format: LadderFormat
    public var path: String?

    public init(format: LadderFormat, path: String? = nil) {
        self.format = format
        self.path = path
    }

    /// "svg", "svg=fin-lost.svg", "mermaid=out/ladder.mmd".
    public init?(parsing text: String) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard let format = LadderFormat(rawValue: String(parts[0])) else { return nil }
        if parts.count == 2 {
            guard !parts[1].isEmpty else { return nil }
            self.init(format: format, path: String(parts[1]))
        } else {
            self.init(format: format)
        }
    }
}
