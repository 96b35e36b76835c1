import TCPLabFault

/// A text ladder diagram of one connection: client on the left, server on the right, one line
/// per segment (offset, arrow, flags, seq/ack, len, `✗ dropped`) and one per socket state
/// transition, printed on its side. ANSI colour only when the caller asks (it knows isatty).
public struct LadderView: Sendable {
    public var colour: Bool
    /// Width of the arrow column in characters.
    public var arrowWidth: Int
    /// Width of the client's state column.
    public var stateWidth: Int

    public init(colour: Bool = false, arrowWidth: Int = 56, stateWidth: Int = 28) {
        self.colour = colour
        self.arrowWidth = arrowWidth
        self.stateWidth = stateWidth
    }

    /// Renders `events` (and the state `transitions`) in time order. Offsets count from
    /// `originUnixMicroseconds`, by default the first event's time.
    /// `kernelEvents` (tracepoints) go on their side's lane marked ⚑.
    public func render(events: [TimelineEvent], transitions: [SocketTransition] = [], kernelEvents: [KernelEvent] = [],
                       originUnixMicroseconds: Int64? = nil) -> String {
        let origin = originUnixMicroseconds
            ?? ([events.first?.timeUnixMicroseconds, transitions.first?.timeUnixMicroseconds].compactMap { $0 }.min() ?? 0)
        enum Row { case segment(TimelineEvent), state(SocketTransition), kernel(KernelEvent) }
        var rows: [(time: Int64, order: Int, row: Row)] = []
        for (i, event) in events.enumerated() { rows.append((event.timeUnixMicroseconds, i, .segment(event))) }
        for (i, change) in transitions.enumerated() { rows.append((change.timeUnixMicroseconds, events.count + i, .state(change))) }
        for (i, event) in kernelEvents.enumerated() {
            rows.append((event.timeUnixMicroseconds, events.count + transitions.count + i, .kernel(event)))
        }
        rows.sort { ($0.time, $0.order) < ($1.time, $1.order) }

        var lines = [pad("time", 13) + pad("client", stateWidth) + centre("", arrowWidth) + " server"]
        for (time, _, row) in rows {
            let offset = pad(TimelineEvent.seconds(time - origin), 13)
            switch row {
            case .segment(let event):
                lines.append(offset + String(repeating: " ", count: stateWidth) + arrow(event))
            case .state(let change):
                let text = paint(change.stateText, change.state == nil ? "2" : "36")
                if change.side == .client {
                    lines.append(offset + text)
                } else {
                    lines.append(offset + String(repeating: " ", count: stateWidth + arrowWidth) + " " + text)
                }
            case .kernel(let event):
                let text = paint("⚑ " + event.laneText, "34")
                lines.append(offset + (event.side == .client ? text : String(repeating: " ", count: stateWidth + arrowWidth) + " " + text))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "S seq 0 win 65495 [syn] ────────▶" or "◀──────── S. seq 0 ack 1 [synack]".
    func arrow(_ event: TimelineEvent) -> String {
        var label = event.ladderLabel
        if event.retransmission { label += " (retrans)" }
        let tail: String
        let code: String?
        switch event.fate {
        case .passed: (tail, code) = ("", event.retransmission ? "33" : nil)
        case .dropped: (tail, code) = (" ✗ dropped", "31")
        case .delayed: (tail, code) = (" ⧖ delayed" + event.faultTimingText, "35")
        case .released: (tail, code) = (" ⧖ released" + event.heldText, "35")
        case .duplicated: (tail, code) = (" ⧉ duplicate", "36")
        }
        let fill = max(2, arrowWidth - label.count - 3)
        // A dropped segment ends in ✗, a held one in ⧖ (it arrives on its "released" line).
        let head: String? = switch event.fate {
        case .dropped: "✗"
        case .delayed: "⧖"
        default: nil
        }
        let line = event.from == .client
            ? "\(label) \(String(repeating: "─", count: fill))\(head ?? "▶")"
            : "\(head ?? "◀")\(String(repeating: "─", count: fill)) \(label)"
        return paint(line + tail, code)
    }

    private func paint(_ text: String, _ code: String?) -> String {
        guard colour, let code else { return text }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private func centre(_ text: String, _ width: Int) -> String { pad(text, width) }
}

extension TimelineEvent {
    /// "P. seq 1 ack 6 len 5 win 0 sack 7-12 data": what every ladder (text, SVG, Mermaid) writes on an arrow.
    var ladderLabel: String {
        var label = "\(flags) seq \(sequenceRelative)"
        if let ack = acknowledgmentRelative { label += " ack \(ack)" }
        if payloadBytes > 0 { label += " len \(payloadBytes)" }
        // The two things flow-control and loss-recovery ladders turn on: a closed window, SACK blocks.
        if windowRaw == 0, !flags.contains("R") { label += " win 0" }
        for block in sackRelative ?? [] where block.count == 2 { label += " sack \(block[0])-\(block[1])" }
        return label + " \(kind.rawValue)"
    }
}
