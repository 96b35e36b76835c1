import TCPLabObserve

extension LabCheck {
    /// This check as a judged time on the ladder: only timings whose origin the lab recorded.
    public var judgement: LadderJudgement? {
        guard let origin = originUnixMicroseconds, let expected = expectedSeconds else { return nil }
        return LadderJudgement(label: what, expectedUnixMicroseconds: origin + Self.microseconds(expected),
                               observedUnixMicroseconds: observedSeconds.map { origin + Self.microseconds($0) },
                               toleranceMicroseconds: Self.microseconds(toleranceSeconds ?? 0), passed: passed)
    }

    static func microseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1_000_000).rounded()) }
}

extension LabLadder {
    /// The checks drawn on this ladder: those measured from one of its segments or states.
    public func judgements(_ checks: [LabCheck]) -> [LadderJudgement] {
        guard let observation else { return [] }
        let times = Set(observation.events.map(\.timeUnixMicroseconds) + observation.transitions.map(\.timeUnixMicroseconds))
        return checks.filter { $0.originUnixMicroseconds.map(times.contains) ?? false }.compactMap(\.judgement)
    }

    /// The ladder in `format`; the text one (as recorded) when there are no events to draw.
    public func render(_ format: LadderFormat, checks: [LabCheck] = []) -> String {
        guard format != .text, let observation else { return text }
        return format.render(events: observation.events, transitions: observation.transitions,
                             judgements: judgements(checks), title: title)
    }
}

extension Observation {
    /// The ladder as an SVG picture (`SVGLadderView`), with judged timings beside it.
    public func svgLadder(title: String? = nil, judgements: [LadderJudgement] = []) -> String {
        SVGLadderView(title: title).render(events: events, transitions: transitions, judgements: judgements)
    }

    /// The ladder as a Mermaid sequenceDiagram.
    public func mermaidLadder() -> String {
        MermaidLadderView().render(events: events, transitions: transitions)
    }
}
