/// Predicted against observed, one row per fact the lab checks.
struct Verdict: Sendable {
    struct Row: Sendable {
        var what: String
        var predicted: String
        var observed: String
        var passed: Bool
        /// Why it failed, in packetdrill's words where it is a timing.
        var note: String?
    }

    var rows: [Row] = []

    var passed: Bool { !rows.isEmpty && rows.allSatisfy(\.passed) }

    mutating func add(_ what: String, predicted: String, observed: String, passed: Bool, note: String? = nil) {
        rows.append(Row(what: what, predicted: predicted, observed: observed, passed: passed, note: note))
    }

    var table: String {
        let headers = ["check", "predicted", "observed", ""]
        let cells = rows.map { [$0.what, $0.predicted, $0.observed, $0.passed ? "PASS" : "FAIL"] }
        let widths = (0..<headers.count).map { column in
            ([headers[column]] + cells.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces
        }
        var lines = [line(headers)]
        for (row, values) in zip(rows, cells) {
            lines.append(line(values))
            if let note = row.note, !row.passed { lines.append("    \(note)") }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
