import TCPLabFault

/// A ladder as a Mermaid `sequenceDiagram`, for Markdown (GitHub renders it): one message per
/// timeline event (`->>` delivered, `-x` lost, `-)` held), the sockets' states as notes on
/// their side (the kernel's tracepoints too, "kernel: …"), each line starting with its offset.
public struct MermaidLadderView: Sendable {
    public init() {}

    public func render(events: [TimelineEvent], transitions: [SocketTransition] = [], kernelEvents: [KernelEvent] = [],
                       originUnixMicroseconds: Int64? = nil) -> String {
        let origin = originUnixMicroseconds
            ?? ([events.first?.timeUnixMicroseconds, transitions.map(\.timeUnixMicroseconds).min()].compactMap { $0 }.min() ?? 0)
        let client = events.first { $0.from == .client }.map(\.source) ?? events.first { $0.from == .server }.map(\.destination)
        let server = events.first { $0.from == .client }.map(\.destination) ?? events.first { $0.from == .server }.map(\.source)
        var lines = ["sequenceDiagram",
                     "    participant C as " + Self.escape("client" + (client.map { " " + $0 } ?? "")),
                     "    participant S as " + Self.escape("server" + (server.map { " " + $0 } ?? ""))]
        enum Row { case segment(Int), state(SocketTransition), kernel(KernelEvent) }
        var rows: [(time: Int64, order: Int, row: Row)] = []
        for (i, event) in events.enumerated() { rows.append((event.timeUnixMicroseconds, i, .segment(i))) }
        for (i, change) in transitions.enumerated() { rows.append((change.timeUnixMicroseconds, events.count + i, .state(change))) }
        for (i, event) in kernelEvents.enumerated() {
            rows.append((event.timeUnixMicroseconds, events.count + transitions.count + i, .kernel(event)))
        }
        rows.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        let gaps = RetransmissionGap.of(events)
        for (time, _, row) in rows {
            let offset = TimelineEvent.seconds(time - origin)
            switch row {
            case .segment(let index):
                let event = events[index]
                let (from, to) = event.from == .client ? ("C", "S") : ("S", "C")
                let arrow = switch event.fate {
                case .dropped: "-x"
                case .delayed: "-)"
                case .passed, .released, .duplicated: "->>"
                }
                lines.append("    \(from)\(arrow)\(to): " + Self.escape("\(offset) " + SVGLadderView.label(event, gap: gaps[index])))
            case .state(let change):
                let side = change.side == .client ? "left of C" : "right of S"
                lines.append("    Note \(side): " + Self.escape("\(offset) \(change.stateText)"))
            case .kernel(let event):
                let side = event.side == .client ? "left of C" : "right of S"
                lines.append("    Note \(side): " + Self.escape("\(offset) kernel: \(event.laneText)"))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Mermaid ends a statement at `;` and a line at a newline, and reads `#…;` as an entity:
    /// those become entity codes so a label always stays one message.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "#": out += "#35;"
            case ";": out += "#59;"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
