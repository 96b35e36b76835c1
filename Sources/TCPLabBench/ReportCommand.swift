import ArgumentParser
import Foundation
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Renders the collected rows as the markdown table of docs/benchmarks.md, headed by the machine.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render result rows (JSON lines) as a markdown table with the machine's kernel, CPUs and date."
    )

    @Argument(help: "The JSON lines file the measuring subcommands wrote.")
    var results: String

    @Option(help: "A line under the heading (how the run was made).")
    var remark: String?

    func run() throws {
        let text = try String(contentsOfFile: results, encoding: .utf8)
        var rows: [BenchRow] = []
        for line in text.split(separator: "\n") where line.hasPrefix("{") {
            if let row = try? JSONDecoder().decode(BenchRow.self, from: Data(line.utf8)) { rows.append(row) }
        }
        print(Self.render(rows, remark: remark), terminator: "")
    }

    static func render(_ rows: [BenchRow], remark: String?) -> String {
        var lines = ["# TCPLab benchmarks", ""]
        lines.append("Machine: Linux \(kernelRelease()), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs, measured \(timestamp()).")
        if let remark { lines.append(""); lines.append(remark) }
        lines += ["", "Ratio: times better than the baseline (> 1 means TCPLab is faster or holds more).", ""]
        lines.append("| metric | TCPLab | baseline | ratio | goal | met? |")
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for row in rows {
            let met = row.met.map { $0 ? "yes" : "**no**" } ?? "—"
            let ratio = row.ratio.map { Format.ratio($0) } ?? "—"
            lines.append("| \(cell(row.metric)) | \(cell(row.tcplab)) | \(cell(row.baseline)) | \(ratio) | \(cell(row.goal)) | \(met) |")
        }
        let notes = rows.compactMap { row in row.note.map { "- \(row.metric): \($0)" } }
        if !notes.isEmpty { lines += ["", "Notes:", ""] + notes }
        let met = rows.filter { $0.met == true }.count, judged = rows.filter { $0.met != nil }.count
        let skipped = rows.filter { $0.tcplab == "skipped" }.count
        lines += ["", "Goals met: \(met) of \(judged); skipped: \(skipped).", ""]
        return lines.joined(separator: "\n")
    }

    private static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    private static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
