import ArgumentParser
import Foundation
import TCPLab
import TCPLabObserve
import TCPLabSystem

/// What a run does with each lab report besides printing it: `--ladder` (the ladders redrawn in
/// place, or written to DIR/LAB-N.svg|mmd|txt) and `--report` (the HTML report, rewritten after
/// every lab so it is readable while the run goes on).
struct LabOutputs {
    var ladder: LadderRequest?
    var html: LabHTMLReport?
    private var reports: [LabReport] = []

    init(ladder: LadderRequest?, reportDirectory: String?, runDescription: String) {
        self.ladder = ladder
        html = reportDirectory.map { LabHTMLReport(directory: $0, runDescription: runDescription) }
    }

    /// Creates the directories, before any lab runs, so a bad path costs nothing.
    func prepare() throws {
        for directory in [ladder?.path, html?.directory].compactMap({ $0 }) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ValidationError("cannot create \(directory): \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
            }
        }
    }

    /// The report as it is printed: with `--ladder FORMAT` its ladders in that format; with
    /// `--ladder FORMAT=DIR` unchanged, each ladder written to its own file.
    mutating func add(_ report: LabReport) throws -> LabReport {
        reports.append(report)
        try html?.write(reports)
        guard let ladder, ladder.format != .text || ladder.path != nil else { return report }
        var shown = report
        for (index, drawn) in report.ladders.enumerated() {
            let picture = drawn.render(ladder.format, checks: report.checks)
            if let directory = ladder.path {
                let path = "\(directory)/\(report.name)-\(index + 1).\(ladder.format.fileExtension)"
                try PictureFile.write(picture, to: path)
                printError("tcplab: wrote \(path)")
            } else {
                shown.ladders[index].text = picture
            }
        }
        return shown
    }

    /// "fast profile, loopback, kernel 6.18.0, 2026-12-01 21:40".
    static func describe(profile: LabProfile, topology: LabTopology) -> String {
        var system = utsname()
        uname(&system)
        let release = withUnsafeBytes(of: &system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return "\(profile.rawValue) profile, \(topology.rawValue), kernel \(release), \(formatter.string(from: Date()))"
    }
}

extension LadderRequest: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
