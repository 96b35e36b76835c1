import ArgumentParser
import Foundation
import TCPLab
import TCPLabCommandSupport
import TCPLabObserve
import TCPLabSystem

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run labs by name (or all) and judge the kernel against the model.",
        discussion: "Exit status: 0 when no lab failed (skipped labs do not fail a run), 1 when one did, 64 for bad input, 130 after Ctrl-C."
    )

    @Argument(help: ArgumentHelp("Lab names (see `tcplab list`), or all.", valueName: "name"))
    var names: [String]

    @Option(help: "fast (compressed timers, the default) or defaults (the kernel's own values).")
    var profile: LabProfile = .fast

    @Option(help: "Where the ends run: loopback (one namespace), two-hosts (two namespaces over veth, MTU 1500) or router (the same with a forwarding namespace between).")
    var topology: LabTopology = .loopback

    @Flag(help: "Print one JSON object per lab report on stdout instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Write each faultproxy run's segments to a pcap file in this directory.", valueName: "dir"))
    var pcap: String?

    @Option(help: "Run the whole selection this many times in a row; stop at the first round with a failure.")
    var `repeat` = 1

    @Flag(help: "Leave the ladders out of the text output.")
    var noLadder = false

    @Option(help: ArgumentHelp(
        "Draw the ladders as text (the default), svg or mermaid; with =DIR write each to DIR/LAB-N.svg|mmd|txt instead.",
        valueName: "format[=dir]"))
    var ladder: LadderRequest?

    @Option(help: ArgumentHelp("Write an offline HTML report (index.html, a page per lab) to this directory as the run goes.", valueName: "dir"))
    var report: String?

    func validate() throws {
        guard !names.isEmpty else { throw ValidationError("name at least one lab, or all (see `tcplab list`)") }
        guard (1...100).contains(`repeat`) else { throw ValidationError("--repeat must be 1 to 100") }
        _ = try selection()
    }

    func selection() throws -> [LabDefinition] {
        if names == ["all"] { return LabCatalogue.all }
        return try names.map { name in
            guard let lab = LabCatalogue.named(name) else {
                throw ValidationError("no lab named '\(name)'; known: \(LabCatalogue.all.map(\.name).joined(separator: ", "))")
            }
            return lab
        }
    }

    func run() throws {
        try LabNamespace.requireRoot()
        let labs = try selection()
        if let pcap { try FileManager.default.createDirectory(atPath: pcap, withIntermediateDirectories: true) }
        let interrupt = InterruptCleanup()
        let runner = LabRunner(profile: profile, pcapDirectory: pcap, topology: topology)
        let renderer = LabReportRenderer(colour: isatty(STDOUT_FILENO) == 1, ladders: !noLadder)
        var outputs = LabOutputs(ladder: ladder, reportDirectory: report, runDescription: LabOutputs.describe(profile: profile, topology: topology))
        try outputs.prepare()
        let started = Date()
        var anyFailed = false
        for round in 1...`repeat` {
            if `repeat` > 1 { printError("tcplab: round \(round) of \(`repeat`)") }
            let roundStarted = Date()
            var reports: [LabReport] = []
            for lab in labs {
                if !json { printError("tcplab: running \(lab.name) …") }
                let judged = runner.run(lab)
                if interrupt.fired { throw ExitCode(130) }
                reports.append(judged)
                let report = try outputs.add(judged)
                if json {
                    JSONLines.emit(report)
                } else {
                    // Unbuffered, so the progress lines on stderr never land inside a report.
                    FileHandle.standardOutput.write(Data((renderer.render(report, definition: lab) + "\n").utf8))
                }
            }
            if !json { FileHandle.standardOutput.write(Data(renderer.summary(reports).utf8)) }
            if let report { printError("tcplab: report in \(report)/index.html") }
            let failed = reports.filter { $0.status == .failed }.count
            printError("tcplab: round \(round): \(reports.filter { $0.status == .passed }.count) passed, \(failed) failed, \(reports.filter { $0.status == .skipped }.count) skipped in \(TimingTolerance.format(Date().timeIntervalSince(roundStarted))) s"
                       + (round > 1 ? " (\(TimingTolerance.format(Date().timeIntervalSince(started))) s in all)" : ""))
            if failed > 0 {
                anyFailed = true
                break
            }
        }
        if anyFailed { throw ExitCode.failure }
    }
}

extension LabProfile: ExpressibleByArgument {}

/// On SIGINT/SIGTERM: delete every lab namespace still alive (killing its processes, which
/// takes faultproxy's table with it) and exit 130.
final class InterruptCleanup: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private(set) var fired = false

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                fired = true
                printError("tcplab: interrupted; removing the lab namespaces")
                ActiveLabs.shared.deleteAll()
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }
}
extension LabTopology: ExpressibleByArgument {}
