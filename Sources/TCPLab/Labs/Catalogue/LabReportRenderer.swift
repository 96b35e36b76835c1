/// The text a person reads for one lab: header, sysctls, ladders, verdict table, notes vs kernel.
public struct LabReportRenderer: Sendable {
    public var colour: Bool
    public var ladders: Bool

    public init(colour: Bool = false, ladders: Bool = true) {
        self.colour = colour
        self.ladders = ladders
    }

    public func render(_ report: LabReport, definition: LabDefinition?) -> String {
        var lines: [String] = []
        lines.append(paint("━━ \(report.name) — \(definition?.summary ?? "") ━━", "1"))
        if let definition { lines.append("seed question: \(definition.question)") }
        if !report.sysctls.isEmpty {
            let topology = report.topology.map { ", \($0.rawValue)" } ?? ""
            lines.append("sysctls (\(report.profile.rawValue) profile\(topology), read back): \(report.sysctls.joined(separator: " "))")
        }
        if ladders {
            for ladder in report.ladders {
                lines.append("")
                lines.append(paint("── \(ladder.title)", "1"))
                lines.append(ladder.text.trimmingSuffixNewlines())
            }
        }
        if !report.facts.isEmpty {
            lines.append("")
            for fact in report.facts { lines.append("  · \(fact)") }
        }
        if !report.checks.isEmpty {
            lines.append("")
            lines.append("verdict:")
            let width = min(60, report.checks.map(\.what.count).max() ?? 10)
            for check in report.checks {
                let mark = check.passed ? paint("PASS", "32") : paint("FAIL", "31")
                var line = "  \(mark)  \(pad(check.what, width))  expected \(check.expected)  observed \(check.observed)"
                if let tolerance = check.tolerance { line += "  (tolerance \(tolerance))" }
                lines.append(line)
            }
        }
        for claim in report.claims {
            lines.append("  notes say:   \(claim.notesSay)")
            lines.append("  kernel does: \(claim.kernelDoes)\(claim.agrees ? "  (agrees)" : paint("  (the notes are wrong on this kernel)", "33"))")
        }
        let status: String
        switch report.status {
        case .passed: status = paint("PASS", "32")
        case .failed: status = paint("FAIL", "31")
        case .skipped: status = paint("SKIPPED", "33")
        }
        var last = "\(status) \(report.name) (\(TimingTolerance.format(report.seconds)) s)"
        if let reason = report.reason { last += ": \(reason)" }
        lines.append(last)
        return lines.joined(separator: "\n") + "\n"
    }

    /// One line per lab for the end of a run.
    public func summary(_ reports: [LabReport]) -> String {
        var lines = ["", "summary:"]
        for report in reports {
            let status = report.status == .passed ? paint("PASS", "32") : report.status == .failed ? paint("FAIL", "31") : paint("SKIP", "33")
            let failed = report.checks.filter { !$0.passed }.map(\.what)
            var line = "  \(status)  \(pad(report.name, 22)) \(pad(TimingTolerance.format(report.seconds) + " s", 9)) \(report.checks.filter(\.passed).count)/\(report.checks.count) checks"
            if !failed.isEmpty { line += "; failed: " + failed.joined(separator: ", ") }
            if let reason = report.reason { line += "; " + reason }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    private func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
}

extension String {
    func trimmingSuffixNewlines() -> String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
