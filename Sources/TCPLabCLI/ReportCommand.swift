import ArgumentParser
import Foundation
import TCPLab
import TCPLabSystem

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Run labs and write a static HTML report that works offline.",
        discussion: """
            DIR gets index.html and a page per lab: the seed question in Chinese and English, the \
            ladders as SVG, the verdict table, notes say / kernel does, the sysctls and the topology. \
            No script and nothing fetched: open it from disk. (`tcplab run --report DIR` writes the same.)
            Exit status: 0 when no lab failed, 1 when one did, 64 for bad input, 130 after Ctrl-C.
            """
    )

    @Argument(help: ArgumentHelp("The directory to write the report to (created if missing).", valueName: "dir"))
    var directory: String

    @Argument(help: ArgumentHelp("Lab names (see `tcplab list`); all when none is named.", valueName: "name"))
    var names: [String] = []

    @Option(help: "fast (compressed timers, the default) or defaults (the kernel's own values).")
    var profile: LabProfile = .fast

    @Option(help: "Where the ends run: loopback, two-hosts or router (see `tcplab run --help`).")
    var topology: LabTopology = .loopback

    func validate() throws {
        for name in names where name != "all" && LabCatalogue.named(name) == nil {
            throw ValidationError("no lab named '\(name)'; known: \(LabCatalogue.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        try LabNamespace.requireRoot()
        let labs = names.isEmpty || names == ["all"] ? LabCatalogue.all : names.compactMap(LabCatalogue.named)
        var outputs = LabOutputs(ladder: nil, reportDirectory: directory, runDescription: LabOutputs.describe(profile: profile, topology: topology))
        try outputs.prepare()
        let interrupt = InterruptCleanup()
        let runner = LabRunner(profile: profile, topology: topology)
        var reports: [LabReport] = []
        for lab in labs {
            printError("tcplab: running \(lab.name) …")
            let report = runner.run(lab)
            if interrupt.fired { throw ExitCode(130) }
            reports.append(try outputs.add(report))
        }
        FileHandle.standardOutput.write(Data(LabReportRenderer().summary(reports).utf8))
        printError("tcplab: report in \(directory)/index.html")
        if reports.contains(where: { $0.status == .failed }) { throw ExitCode.failure }
    }
}
