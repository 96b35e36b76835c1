import TCPLabFault
import TCPLabNetlink
import TCPLabSystem

/// A ladder as a self-contained SVG, in the manner of Wireshark's flow graph: a time axis on the
/// left, a lane for each end, one arrow per timeline event sloping down with time, a lost segment
/// as an arrow that stops half-way with ✗, a held segment as an arrow to the middle (an hourglass), a dashed
/// hold, and its release going on from there; retransmissions labelled with the gap since the
/// previous copy; the sockets' states as bands on their lane, the kernel's tracepoints as flags
/// beside it; judged timings (when given) as a
/// tolerance band, the expected time and the observed time in a column each on the right.
///
/// Pure: events in, text out; no fonts or scripts are referenced (generic `monospace` only).
/// Elements carry classes and `data-*` attributes (`segment`, `arrow`, `time`, `state`,
/// `judgement`) so tests and readers can find them.
public struct SVGLadderView: Sendable {
    public var title: String?

    public init(title: String? = nil) { self.title = title }

    // Geometry, in px.
    static let clientX = 450.0
    static let serverX = 860.0
    static let middleX = (clientX + serverX) / 2
    static let slope = 14.0
    static let header = 64.0
    static let judgementStart = serverX + 330
    static let judgementWidth = 22.0

    public func render(events: [TimelineEvent], transitions: [SocketTransition] = [], kernelEvents: [KernelEvent] = [],
                       judgements: [LadderJudgement] = [], originUnixMicroseconds: Int64? = nil) -> String {
        let times = events.map(\.timeUnixMicroseconds)
        let rowTimes = times.isEmpty ? transitions.map(\.timeUnixMicroseconds).sorted() : times
        let origin = originUnixMicroseconds ?? ([times.min(), transitions.map(\.timeUnixMicroseconds).min()].compactMap { $0 }.min() ?? 0)
        var scale = LadderTimeScale(rowTimes: rowTimes, top: 0)
        // Everything drawn, so the picture starts above the earliest and ends below the latest.
        let moments = rowTimes + transitions.map(\.timeUnixMicroseconds) + kernelEvents.map(\.timeUnixMicroseconds)
            + judgements.flatMap { [$0.expectedUnixMicroseconds - $0.toleranceMicroseconds, $0.expectedUnixMicroseconds + $0.toleranceMicroseconds]
                + ($0.observedUnixMicroseconds.map { [$0] } ?? []) }
        let lowest = moments.map { scale.y(at: $0) }.min() ?? 0
        scale = LadderTimeScale(rowTimes: rowTimes, top: Self.header - min(0, lowest))
        let bottom = (moments.map { scale.y(at: $0) }.max() ?? Self.header) + Self.slope + 20
        let width = judgements.isEmpty ? Self.serverX + 330 : Self.judgementStart + Double(judgements.count) * Self.judgementWidth + 10
        let legendLines = judgements.count + 1
        let height = bottom + 18 * Double(legendLines) + 10

        var svg = XMLWriter()
        svg.open("svg", ["xmlns": "http://www.w3.org/2000/svg", "width": XMLWriter.number(width), "height": XMLWriter.number(height),
                         "viewBox": "0 0 \(XMLWriter.number(width)) \(XMLWriter.number(height))", "font-family": "monospace", "font-size": "11",
                         "class": "tcplab-ladder"])
        svg.newline()
        svg.element("title", text: title ?? "TCP ladder")
        svg.raw("""
            <defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">\
            <path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>
            <style>.arrow{stroke:#333;stroke-width:1.3}.dropped .arrow{stroke:#c62828}.delayed .arrow,.released .arrow{stroke:#6a1b9a}\
            .retransmission .arrow{stroke:#e65100}.duplicated .arrow{stroke:#00838f;stroke-dasharray:5 2}.mark{font-size:14px;font-weight:bold}\
            .dropped .mark{fill:#c62828}.delayed .mark{fill:#6a1b9a}.hold{stroke:#6a1b9a;stroke-dasharray:3 3}.time{fill:#555}\
            .gap{fill:#999;font-style:italic}.lane{stroke:#999}.state text{fill:#0d47a1}</style>
            """)
        svg.newline()
        svg.element("rect", ["width": "100%", "height": "100%", "fill": "white"], text: "")
        if let title { svg.element("text", ["x": "8", "y": "16", "font-size": "13", "font-weight": "bold", "class": "title"], text: title) }
        let client = events.first { $0.from == .client }.map(\.source) ?? events.first { $0.from == .server }.map(\.destination)
        let server = events.first { $0.from == .client }.map(\.destination) ?? events.first { $0.from == .server }.map(\.source)
        svg.element("text", ["x": XMLWriter.number(Self.clientX), "y": "38", "text-anchor": "middle", "font-weight": "bold"],
                    text: "client" + (client.map { " " + $0 } ?? ""))
        svg.element("text", ["x": XMLWriter.number(Self.serverX), "y": "38", "text-anchor": "middle", "font-weight": "bold"],
                    text: "server" + (server.map { " " + $0 } ?? ""))
        svg.element("text", ["x": "8", "y": "38", "class": "time"], text: "time")
        for x in [Self.clientX, Self.serverX] {
            svg.empty("line", ["class": "lane", "x1": XMLWriter.number(x), "y1": "46", "x2": XMLWriter.number(x), "y2": XMLWriter.number(bottom)])
        }
        svg.newline()
        drawStates(transitions, scale: scale, bottom: bottom, into: &svg)
        drawKernelEvents(kernelEvents, scale: scale, into: &svg)
        drawSegments(events, scale: scale, origin: origin, into: &svg)
        drawJudgements(judgements, scale: scale, origin: origin, bottom: bottom, into: &svg)

        // Legend.
        var y = bottom + 14
        svg.element("text", ["x": "8", "y": XMLWriter.number(y), "class": "legend"],
                    text: "✗ lost (stops half-way) · hourglass: held, dashed until released · dashed teal: duplicated · orange: retransmission · the axis is not linear: each row is at its time")
        for (index, judgement) in judgements.enumerated() {
            y += 18
            let observed = judgement.observedUnixMicroseconds.map { TimelineEvent.seconds($0 - origin) } ?? "never"
            svg.element("text", ["x": "8", "y": XMLWriter.number(y), "class": "legend judgement-legend",
                                 "fill": judgement.passed ? "#1b5e20" : "#b71c1c"],
                        text: "\(index + 1) \(judgement.passed ? "PASS" : "FAIL") \(judgement.label): expected \(TimelineEvent.seconds(judgement.expectedUnixMicroseconds - origin)) ± \(RetransmissionGap.seconds(judgement.toleranceMicroseconds)) s, observed \(observed)")
        }
        svg.newline()
        svg.close()
        return svg.document + "\n"
    }

    // MARK: segments

    private func drawSegments(_ events: [TimelineEvent], scale: LadderTimeScale, origin: Int64, into svg: inout XMLWriter) {
        let gaps = RetransmissionGap.of(events)
        // Where each held segment waits: the index of its "delayed" event, matched in order.
        var waiting: [String: [Int]] = [:]
        func holdKey(_ e: TimelineEvent) -> String { "\(e.connection) \(e.from) \(e.sequenceRaw) \(e.flags) \(e.payloadBytes)" }
        for (index, event) in events.enumerated() {
            let y = scale.y(row: index)
            if index > 0 {
                let gap = event.timeUnixMicroseconds - events[index - 1].timeUnixMicroseconds
                if gap >= 50_000 {
                    svg.element("text", ["x": "8", "y": XMLWriter.number((y + scale.y(row: index - 1)) / 2 + 8), "class": "gap"],
                                text: "Δ \(RetransmissionGap.seconds(gap)) s")
                }
            }
            let (fromX, toX) = event.from == .client ? (Self.clientX, Self.serverX) : (Self.serverX, Self.clientX)
            var start = (x: fromX, y: y)
            var end = (x: toX, y: y + Self.slope)
            var mark: String?
            switch event.fate {
            case .dropped:
                end = (Self.middleX, y + Self.slope / 2)
                mark = "✗"
            case .delayed:
                end = (Self.middleX, y + Self.slope / 2)
                waiting[holdKey(event), default: []].append(index)
            case .released:
                start = (Self.middleX, y)
                end = (toX, y + Self.slope / 2)
            case .passed, .duplicated: break
            }
            var classes = ["segment", event.fate.rawValue]
            if event.retransmission { classes.append("retransmission") }
            svg.open("g", ["class": classes.joined(separator: " "), "data-index": String(index), "data-kind": event.kind.rawValue,
                           "data-from": event.from.rawValue, "data-conn": String(event.connection),
                           "data-t-us": String(event.offsetMicroseconds), "data-unix-us": String(event.timeUnixMicroseconds)])
            svg.element("title", text: event.summary)
            if event.fate == .released, var held = waiting[holdKey(event)], !held.isEmpty {
                let from = held.removeFirst()
                waiting[holdKey(event)] = held
                svg.empty("line", ["class": "hold", "x1": XMLWriter.number(Self.middleX), "y1": XMLWriter.number(scale.y(row: from) + Self.slope / 2),
                                   "x2": XMLWriter.number(Self.middleX), "y2": XMLWriter.number(y)])
            }
            let arrives = event.fate != .dropped && event.fate != .delayed
            svg.empty("line", ["class": "arrow", "x1": XMLWriter.number(start.x), "y1": XMLWriter.number(start.y),
                               "x2": XMLWriter.number(end.x), "y2": XMLWriter.number(end.y), "marker-end": arrives ? "url(#head)" : nil])
            if event.fate == .delayed {
                // An hourglass drawn, not the ⧖ glyph: few fonts have it.
                let (x, y) = (end.x, end.y)
                svg.empty("path", ["class": "hourglass", "fill": "#6a1b9a",
                                   "d": "M\(XMLWriter.number(x - 5)),\(XMLWriter.number(y - 7)) h10 l-10,14 h10 z"])
            }
            if let mark {
                svg.element("text", ["class": "mark", "x": XMLWriter.number(end.x), "y": XMLWriter.number(end.y + 5), "text-anchor": "middle"], text: mark)
            }
            svg.element("text", ["class": "time", "x": "8", "y": XMLWriter.number(y + 4)], text: TimelineEvent.seconds(event.timeUnixMicroseconds - origin))
            let labelX = (start.x + end.x) / 2
            svg.element("text", ["class": "label", "x": XMLWriter.number(labelX), "y": XMLWriter.number(min(start.y, end.y) - 2), "text-anchor": "middle"],
                        text: Self.label(event, gap: gaps[index]))
            svg.close()
            svg.newline()
        }
    }

    /// "S. seq 0 ack 1 synack (retrans +1.020 s after the last copy, ×2.0) ✗ dropped".
    static func label(_ event: TimelineEvent, gap: RetransmissionGap?) -> String {
        var label = event.ladderLabel
        if event.retransmission { label += gap.map { " (retrans \($0.text))" } ?? " (retrans)" }
        switch event.fate {
        case .passed: break
        case .dropped: label += " ✗ dropped"
        case .delayed: label += " held" + event.faultTimingText
        case .released: label += " released" + event.heldText
        case .duplicated: label += " duplicated"
        }
        return label
    }

    // MARK: states

    private func drawStates(_ transitions: [SocketTransition], scale: LadderTimeScale, bottom: Double, into svg: inout XMLWriter) {
        struct Socket: Hashable { let side: Endpoint; let local: InetEndpoint; let remote: InetEndpoint }
        var order: [Socket: Int] = [:]
        var perSide: [Endpoint: Int] = [:]
        let sorted = transitions.enumerated().sorted { ($0.element.timeUnixMicroseconds, $0.offset) < ($1.element.timeUnixMicroseconds, $1.offset) }.map(\.element)
        for (index, change) in sorted.enumerated() {
            let socket = Socket(side: change.side, local: change.local, remote: change.remote)
            if order[socket] == nil {
                order[socket] = perSide[change.side, default: 0]
                perSide[change.side, default: 0] += 1
            }
            guard let state = change.state else { continue }
            // The band lasts until this socket's next change (or the end of the picture).
            let next = sorted[(index + 1)...].first { Socket(side: $0.side, local: $0.local, remote: $0.remote) == socket }
            let top = scale.y(at: change.timeUnixMicroseconds)
            let end = next.map { scale.y(at: $0.timeUnixMicroseconds) } ?? bottom
            // Sockets of one end side by side, outwards from the lane (up to four columns).
            let column = Double(order[socket]! % 4)
            let x = change.side == .client ? Self.clientX - 10 - 9 * column : Self.serverX + 2 + 9 * column
            svg.open("g", ["class": "state", "data-side": change.side.rawValue, "data-state": "\(state)",
                           "data-unix-us": String(change.timeUnixMicroseconds)])
            svg.empty("rect", ["x": XMLWriter.number(x), "y": XMLWriter.number(top), "width": "8", "height": XMLWriter.number(max(2, end - top)),
                               "fill": Self.colour(state), "opacity": "0.75"])
            let textX = change.side == .client ? Self.clientX - 42 : Self.serverX + 42
            svg.element("text", ["x": XMLWriter.number(textX), "y": XMLWriter.number(top + 10),
                                 "text-anchor": change.side == .client ? "end" : "start"], text: change.stateText)
            svg.close()
            svg.newline()
        }
    }

    /// A small flag on the lane and the tracepoint's words outside it, a line below where a state's would go.
    private func drawKernelEvents(_ kernelEvents: [KernelEvent], scale: LadderTimeScale, into svg: inout XMLWriter) {
        for event in kernelEvents {
            let y = scale.y(at: event.timeUnixMicroseconds)
            let lane = event.side == .client ? Self.clientX : Self.serverX
            let outward = event.side == .client ? -1.0 : 1.0
            svg.open("g", ["class": "kernel", "data-side": event.side.rawValue, "data-name": event.name.rawValue,
                           "data-unix-us": String(event.timeUnixMicroseconds)])
            svg.element("title", text: event.summary)
            svg.empty("path", ["d": "M\(XMLWriter.number(lane)),\(XMLWriter.number(y)) v-9 l\(XMLWriter.number(7 * outward)),3 l\(XMLWriter.number(-7 * outward)),3",
                               "fill": "#6d4c41", "stroke": "#6d4c41"])
            svg.element("text", ["x": XMLWriter.number(lane + 42 * outward), "y": XMLWriter.number(y + 20), "fill": "#6d4c41",
                                 "text-anchor": event.side == .client ? "end" : "start"], text: "kernel: " + event.laneText)
            svg.close()
            svg.newline()
        }
    }

    static func colour(_ state: TCPState) -> String {
        switch "\(state)" {
        case "ESTABLISHED": "#66bb6a"
        case "SYN_SENT", "SYN_RECV": "#ffca28"
        case "FIN_WAIT1", "FIN_WAIT2", "CLOSING": "#42a5f5"
        case "TIME_WAIT": "#7e57c2"
        case "CLOSE_WAIT", "LAST_ACK": "#ef5350"
        default: "#bdbdbd"
        }
    }

    // MARK: judgements

    private func drawJudgements(_ judgements: [LadderJudgement], scale: LadderTimeScale, origin: Int64, bottom: Double, into svg: inout XMLWriter) {
        for (index, judgement) in judgements.enumerated() {
            let x = Self.judgementStart + Double(index) * Self.judgementWidth
            let centre = x + 7
            let top = scale.y(at: judgement.expectedUnixMicroseconds - judgement.toleranceMicroseconds)
            let low = scale.y(at: judgement.expectedUnixMicroseconds + judgement.toleranceMicroseconds)
            let expected = scale.y(at: judgement.expectedUnixMicroseconds)
            let colour = judgement.passed ? "#2e7d32" : "#c62828"
            svg.open("g", ["class": "judgement \(judgement.passed ? "passed" : "failed")", "data-expected-unix-us": String(judgement.expectedUnixMicroseconds),
                           "data-observed-unix-us": judgement.observedUnixMicroseconds.map(String.init),
                           "data-tolerance-us": String(judgement.toleranceMicroseconds)])
            svg.element("title", text: judgement.label)
            svg.element("text", ["x": XMLWriter.number(centre), "y": "56", "text-anchor": "middle", "fill": colour], text: String(index + 1))
            svg.empty("rect", ["class": "tolerance", "x": XMLWriter.number(x), "y": XMLWriter.number(top - 1), "width": "14",
                               "height": XMLWriter.number(max(3, low - top + 2)), "fill": "#c8e6c9", "stroke": "#81c784"])
            svg.empty("line", ["class": "expected", "x1": XMLWriter.number(x - 3), "y1": XMLWriter.number(expected),
                               "x2": XMLWriter.number(x + 17), "y2": XMLWriter.number(expected), "stroke": "#1b5e20", "stroke-width": "1.5"])
            if let observed = judgement.observedUnixMicroseconds {
                svg.empty("circle", ["class": "observed", "cx": XMLWriter.number(centre), "cy": XMLWriter.number(scale.y(at: observed)), "r": "4", "fill": colour])
            } else {
                svg.element("text", ["class": "observed never", "x": XMLWriter.number(centre), "y": XMLWriter.number(bottom - 4),
                                     "text-anchor": "middle", "fill": colour], text: "✗")
            }
            svg.close()
            svg.newline()
        }
    }
}
