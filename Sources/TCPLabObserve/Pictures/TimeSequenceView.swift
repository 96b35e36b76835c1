import TCPLabFault

/// A tcptrace-style time-sequence plot of one direction's data as SVG: time to the right
/// (linear), relative sequence number up. Each data segment is a vertical bar from its first to
/// one past its last byte (orange when it is a retransmission, red with ✗ when it was dropped);
/// the receiver's ACKs are a green step line, ACK + window (the most the sender may send) a
/// yellow one, and SACK blocks purple bars beside the ACK that carried them.
public struct TimeSequenceView: Sendable {
    public var title: String?

    public init(title: String? = nil) { self.title = title }

    static let left = 90.0
    static let top = 40.0
    static let plotWidth = 760.0
    static let plotHeight = 380.0

    /// The end that sent the most payload bytes in connection 0, or nil without data.
    public static func dataSender(_ events: [TimelineEvent]) -> Endpoint? {
        let bytes = Dictionary(grouping: events.filter { $0.connection == 0 }, by: \.from).mapValues { $0.reduce(0) { $0 + $1.payloadBytes } }
        guard let best = bytes.max(by: { $0.value < $1.value }), best.value > 0 else { return nil }
        return best.key
    }

    public func render(events all: [TimelineEvent], originUnixMicroseconds: Int64? = nil) -> String {
        let events = all.filter { $0.connection == 0 }
        let sender = Self.dataSender(events) ?? .client
        let data = events.filter { $0.from == sender && $0.payloadBytes > 0 && $0.fate != .released }
        let acks = events.filter { $0.from != sender && $0.acknowledgmentRelative != nil && $0.fate != .dropped }
        let origin = originUnixMicroseconds ?? events.first?.timeUnixMicroseconds ?? 0
        let end = max(1, (events.map(\.timeUnixMicroseconds).max() ?? origin) - origin)
        let window = acks.map { Int($0.acknowledgmentRelative!) + ($0.windowBytes ?? Int($0.windowRaw)) }
        let lowest = (data.map { Int($0.sequenceRelative) } + acks.map { Int($0.acknowledgmentRelative!) }).min() ?? 0
        // The data sets the scale; a window far above it (64 KiB over a 5-byte message) is cut at
        // the top rather than squashing the data into one line.
        let sent = (data.map { Int($0.sequenceRelative) + $0.payloadBytes } + acks.map { Int($0.acknowledgmentRelative!) }).max() ?? 1
        let margin = max(1, (sent - lowest) / 4)
        let highest = max(sent + margin, min(window.max() ?? 0, sent + 2 * (sent - lowest)))
        func x(_ time: Int64) -> Double { Self.left + Self.plotWidth * Double(time - origin) / Double(end) }
        func y(_ sequence: Int) -> Double {
            Self.top + Self.plotHeight * (1 - Double(min(sequence, highest) - lowest) / Double(max(1, highest - lowest)))
        }
        func n(_ value: Double) -> String { XMLWriter.number(value) }

        let width = Self.left + Self.plotWidth + 60
        let height = Self.top + Self.plotHeight + 60
        var svg = XMLWriter()
        svg.open("svg", ["xmlns": "http://www.w3.org/2000/svg", "width": n(width), "height": n(height), "viewBox": "0 0 \(n(width)) \(n(height))",
                         "font-family": "monospace", "font-size": "11", "class": "tcplab-time-sequence"])
        svg.element("title", text: title ?? "time-sequence plot")
        svg.element("rect", ["width": "100%", "height": "100%", "fill": "white"], text: "")
        svg.element("text", ["x": "8", "y": "16", "font-size": "13", "font-weight": "bold"],
                    text: (title.map { $0 + ": " } ?? "") + "\(sender.rawValue)'s data, sequence over time")
        // Axes with five ticks each.
        svg.empty("rect", ["x": n(Self.left), "y": n(Self.top), "width": n(Self.plotWidth), "height": n(Self.plotHeight), "fill": "none", "stroke": "#999"])
        for step in 0...4 {
            let time = Int64(Double(end) * Double(step) / 4)
            svg.element("text", ["class": "tick", "x": n(x(origin + time)), "y": n(Self.top + Self.plotHeight + 16), "text-anchor": "middle"],
                        text: TimelineEvent.seconds(time))
            let sequence = lowest + (highest - lowest) * step / 4
            svg.element("text", ["class": "tick", "x": n(Self.left - 6), "y": n(y(sequence) + 4), "text-anchor": "end"], text: String(sequence))
        }
        svg.element("text", ["x": n(Self.left), "y": n(height - 14)],
                    text: "bars: data (orange retransmitted, red ✗ dropped) · green: ACK · yellow: ACK + window · purple: SACK")
        if !window.isEmpty {
            svg.empty("polyline", ["class": "window", "fill": "none", "stroke": "#f9a825", "points": steps(acks.map(\.timeUnixMicroseconds), window, x: x, y: y, end: origin + end)])
            svg.empty("polyline", ["class": "ack", "fill": "none", "stroke": "#2e7d32", "stroke-width": "1.5",
                                   "points": steps(acks.map(\.timeUnixMicroseconds), acks.map { Int($0.acknowledgmentRelative!) }, x: x, y: y, end: origin + end)])
        }
        for ack in acks {
            for block in ack.sackRelative ?? [] where block.count == 2 {
                svg.empty("line", ["class": "sack", "x1": n(x(ack.timeUnixMicroseconds) + 3), "y1": n(y(Int(block[0]))),
                                   "x2": n(x(ack.timeUnixMicroseconds) + 3), "y2": n(y(Int(block[1]))), "stroke": "#7b1fa2", "stroke-width": "3"])
            }
        }
        for segment in data {
            let colour = segment.fate == .dropped ? "#c62828" : segment.retransmission ? "#e65100" : "#333"
            let classes = ["data", segment.fate.rawValue] + (segment.retransmission ? ["retransmission"] : [])
            svg.open("g", ["class": classes.joined(separator: " "), "data-unix-us": String(segment.timeUnixMicroseconds),
                           "data-seq": String(segment.sequenceRelative), "data-len": String(segment.payloadBytes)])
            svg.element("title", text: segment.summary)
            let at = x(segment.timeUnixMicroseconds)
            let (low, high) = (y(Int(segment.sequenceRelative)), y(Int(segment.sequenceRelative) + segment.payloadBytes))
            svg.empty("line", ["class": "bar", "x1": n(at), "y1": n(low), "x2": n(at), "y2": n(min(high, low - 2)), "stroke": colour, "stroke-width": "2"])
            if segment.fate == .dropped {
                svg.element("text", ["class": "mark", "x": n(at), "y": n(min(high, low - 2) - 3), "text-anchor": "middle", "fill": colour], text: "✗")
            }
            svg.close()
        }
        svg.close()
        return svg.document + "\n"
    }

    /// "x0,y0 x1,y0 x1,y1 …": a value that holds until the next one, to the end of the plot.
    private func steps(_ times: [Int64], _ values: [Int], x: (Int64) -> Double, y: (Int) -> Double, end: Int64) -> String {
        var points: [String] = []
        for (index, (time, value)) in zip(times, values).enumerated() {
            let until = index + 1 < times.count ? times[index + 1] : end
            points.append("\(XMLWriter.number(x(time))),\(XMLWriter.number(y(value)))")
            points.append("\(XMLWriter.number(x(until))),\(XMLWriter.number(y(value)))")
        }
        return points.joined(separator: " ")
    }
}
