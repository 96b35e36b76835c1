import Foundation
import TCPLabObserve

/// A static HTML report of a run that works offline: `index.html` with one row per lab, and a
/// page per lab (`NAME.html`) with the seed question in Chinese and English, the ladders as
/// inline SVG (the text ladder folded under each), the verdict table, "notes say / kernel does",
/// the facts, the sysctls and the topology. No script, no external font or style sheet: the
/// CSS is inline and the fonts are the reader's (a CJK font is needed for the questions).
public struct LabHTMLReport: Sendable {
    public let directory: String
    /// What the index says about the run ("fast profile, loopback, kernel 6.18").
    public var runDescription: String

    public init(directory: String, runDescription: String = "") {
        self.directory = directory
        self.runDescription = runDescription
    }

    /// Writes every lab's page and the index; a later call with more reports rewrites the index,
    /// so a run can call it after each lab.
    public func write(_ reports: [LabReport]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for report in reports {
            try PictureFile.write(page(report), to: "\(directory)/\(Self.fileName(report.name))")
        }
        try PictureFile.write(index(reports), to: "\(directory)/index.html")
    }

    /// "syn-lost.html"; a name is kept to letters, digits and dashes so it is always one file here.
    static func fileName(_ lab: String) -> String {
        String(lab.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }) + ".html"
    }

    // MARK: pages

    public func index(_ reports: [LabReport]) -> String {
        var html = Self.start(title: "TCPLab report")
        html.element("h1", text: "TCPLab report")
        if !runDescription.isEmpty { html.element("p", ["class": "run"], text: runDescription) }
        let counts = [LabReport.Status.passed, .failed, .skipped].map { status in reports.filter { $0.status == status }.count }
        html.element("p", ["class": "totals"], text: "\(counts[0]) passed, \(counts[1]) failed, \(counts[2]) skipped")
        html.open("table", ["class": "labs"])
        html.raw("<tr><th>lab</th><th>verdict</th><th>checks</th><th>seconds</th><th>seed question</th></tr>")
        for report in reports {
            let definition = LabCatalogue.named(report.name)
            html.open("tr", ["class": "lab \(Self.statusClass(report.status))"])
            html.open("td")
            html.element("a", ["href": Self.fileName(report.name)], text: report.name)
            html.close()
            html.element("td", ["class": "status"], text: report.status.rawValue)
            html.element("td", text: "\(report.checks.filter(\.passed).count)/\(report.checks.count)")
            html.element("td", text: TimingTolerance.format(report.seconds))
            html.element("td", ["lang": "zh"], text: definition?.question ?? "")
            html.close()
        }
        html.close()
        return Self.finish(html)
    }

    public func page(_ report: LabReport) -> String {
        let definition = LabCatalogue.named(report.name)
        var html = Self.start(title: "\(report.name) — TCPLab")
        html.open("p")
        html.element("a", ["href": "index.html"], text: "← all labs")
        html.close()
        html.element("h1", text: report.name)
        if let summary = definition?.summary { html.element("p", ["class": "summary"], text: summary) }
        if let question = definition?.question {
            let (chinese, english) = Self.split(question)
            html.open("section", ["class": "question"])
            html.element("h2", text: "Seed question")
            html.element("p", ["lang": "zh", "class": "zh"], text: chinese)
            if let english { html.element("p", ["lang": "en", "class": "en"], text: english) }
            html.close()
        }
        var verdict = "\(report.status.rawValue) in \(TimingTolerance.format(report.seconds)) s"
        if let reason = report.reason { verdict += ": \(reason)" }
        html.element("p", ["class": "verdict \(Self.statusClass(report.status))"], text: verdict)

        html.element("h2", text: "Where it ran")
        html.open("dl", ["class": "setup"])
        html.element("dt", text: "topology")
        html.element("dd", ["class": "topology"], text: Self.describe(report.topology ?? .loopback))
        html.element("dt", text: "profile")
        html.element("dd", text: report.profile.rawValue)
        html.element("dt", text: "sysctls (read back)")
        html.open("dd", ["class": "sysctls"])
        for sysctl in report.sysctls { html.element("code", text: sysctl); html.characters(" ") }
        html.close()
        html.close()

        Self.ladders(report, into: &html)

        html.element("h2", text: "Verdict")
        html.open("table", ["class": "checks"])
        html.raw("<tr><th>check</th><th>expected</th><th>observed</th><th>tolerance</th><th>verdict</th></tr>")
        for check in report.checks {
            html.open("tr", ["class": "check \(check.passed ? "pass" : "fail")"])
            html.element("td", text: check.what)
            html.element("td", text: check.expected)
            html.element("td", text: check.observed)
            html.element("td", text: check.tolerance ?? "")
            html.element("td", ["class": "status"], text: check.passed ? "PASS" : "FAIL")
            html.close()
        }
        html.close()

        if !report.claims.isEmpty {
            html.element("h2", text: "Notes say / kernel does")
            html.open("table", ["class": "claims"])
            html.raw("<tr><th>notes say</th><th>kernel does</th><th></th></tr>")
            for claim in report.claims {
                html.open("tr", ["class": claim.agrees ? "agrees" : "disagrees"])
                html.element("td", ["lang": "zh"], text: claim.notesSay)
                html.element("td", text: claim.kernelDoes)
                html.element("td", text: claim.agrees ? "agrees" : "the notes are wrong on this kernel")
                html.close()
            }
            html.close()
        }
        if !report.facts.isEmpty {
            html.element("h2", text: "Facts")
            html.open("ul", ["class": "facts"])
            for fact in report.facts { html.element("li", text: fact) }
            html.close()
        }
        return Self.finish(html)
    }

    /// Each ladder as SVG (and a time-sequence plot for the labs about data in flight), with its text.
    static func ladders(_ report: LabReport, into html: inout XMLWriter) {
        for (index, ladder) in report.ladders.enumerated() {
            html.element("h2", text: "Ladder\(report.ladders.count > 1 ? " \(index + 1)" : ""): \(ladder.title)")
            if let observation = ladder.observation {
                html.open("div", ["class": "ladder"])
                html.raw(ladder.render(.svg, checks: report.checks))
                html.close()
                if Self.timeSequenceLabs.contains(report.name), TimeSequenceView.dataSender(observation.events) != nil {
                    html.open("div", ["class": "time-sequence"])
                    html.raw(TimeSequenceView(title: ladder.title).render(events: observation.events))
                    html.close()
                }
            }
            html.open("details")
            html.element("summary", text: "the same as text")
            html.element("pre", text: ladder.text)
            html.close()
        }
    }

    // MARK: pieces

    /// The labs about data in flight, whose pages add a tcptrace-style time-sequence plot.
    static let timeSequenceLabs: Set<String> = ["data-lost", "zero-window", "server-dead-retransmit"]

    /// "第一次握手丢失了，会发生什么？(the first handshake segment is lost)" → the notes' words and the translation.
    static func split(_ question: String) -> (chinese: String, english: String?) {
        guard question.hasSuffix(")"), let open = question.lastIndex(of: "(") else { return (question, nil) }
        let chinese = question[..<open].trimmingCharacters(in: .whitespaces)
        let english = question[question.index(after: open)..<question.index(before: question.endIndex)]
        return chinese.isEmpty ? (question, nil) : (chinese, String(english))
    }

    static func describe(_ topology: LabTopology) -> String {
        switch topology {
        case .loopback: "loopback — client and server in one network namespace, over lo"
        case .twoHosts: "two-hosts — client and server in namespaces of their own, joined by veth (MTU 1500); faultproxy in the server's"
        case .router: "router — client and server on hosts of their own with a forwarding namespace between; faultproxy in the server's"
        }
    }

    static func statusClass(_ status: LabReport.Status) -> String {
        switch status {
        case .passed: "pass"
        case .failed: "fail"
        case .skipped: "skip"
        }
    }

    static func start(title: String) -> XMLWriter {
        var html = XMLWriter()
        html.raw("<!DOCTYPE html>\n")
        html.open("html", ["lang": "en"])
        html.open("head")
        html.empty("meta", ["charset": "utf-8"])
        html.element("title", text: title)
        // Raw: a <style> element's text is not entity-decoded in HTML (and the CSS has no "<").
        html.raw("<style>\(style)</style>")
        html.close()
        html.open("body")
        return html
    }

    static func finish(_ html: XMLWriter) -> String {
        var html = html
        html.close()  // body
        html.close()  // html
        return html.document + "\n"
    }

    // The reader's own fonts: Noto Sans CJK (fonts-noto-cjk) or whatever CJK font the system has.
    static let style = """
        body{font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;margin:2em;color:#222;max-width:1400px}
        h1{margin-bottom:.2em}h2{margin-top:1.6em;font-size:1.15em;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
        th{background:#f4f4f4}.pass .status,.verdict.pass{color:#1b5e20;font-weight:bold}.fail .status,.verdict.fail{color:#b71c1c;font-weight:bold}
        .skip .status,.verdict.skip{color:#8d6e00;font-weight:bold}tr.fail{background:#ffebee}.disagrees{background:#fff8e1}
        .question .zh{font-size:1.25em;margin:.2em 0}.question .en{color:#555;margin:.2em 0}.ladder{overflow-x:auto}
        pre{font-size:12px;background:#fafafa;padding:.5em;overflow-x:auto}code{background:#f4f4f4;padding:0 .2em}
        """
}
