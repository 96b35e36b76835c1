import ArgumentParser
import Foundation
import TCPLabFault
import TCPLabNetlink
import TCPLabSystem

/// Installing a fault: faultproxy's in-process netlink batch vs `nft -f` with the same rules, and
/// faultproxy's whole start (exec to "rules active") vs `nft -f`.
struct InstallBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Time installing a fault's table in-process vs nft -f, and faultproxy's start."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "The nft executable.")
    var nft = "nft"

    @Option(help: "A server port for the rules (nothing needs to listen).")
    var port: UInt16 = 7300

    func run() throws {
        let repeats = common.repeats(full: 30, quick: 5)
        let plan = FaultPlan(port: port, drops: [try DropSpec(parsing: "synack:2")], from: .server, tableName: "tcplab_bench_install")
        let table = try plan.linearize()
        let rulesFile = NSTemporaryDirectory() + "tcplab-bench-rules-\(getpid()).nft"
        // The rendered text marks ownership only in a comment: nft -f makes an ordinary table. It
        // has the same rules but the lose chain's x_tables queue, which nft syntax cannot name.
        try NFTSyntaxRenderer.render(NFTSyntaxRenderer.nftExpressible(table)).write(toFile: rulesFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: rulesFile) }

        let client = try NFTablesClient()
        var inProcess = Samples()
        var nftFile = Samples()
        var faultproxyStart = Samples()
        for _ in 0..<repeats {
            // Interleaved, so a burst of load elsewhere hits every variant alike.
            let start = MonotonicClock.now()
            try client.install(table)
            inProcess.append(MonotonicClock.millisecondsSince(start))
            try client.deleteTable(family: table.family, name: table.name)

            let loaded = try ChildProcess.run([nft, "-f", rulesFile])
            guard loaded.status == 0 else { throw ValidationError("nft -f \(rulesFile) failed with status \(loaded.status)") }
            nftFile.append(loaded.milliseconds)
            try client.deleteTable(family: table.family, name: table.name)

            faultproxyStart.append(try timeFaultproxyStart())
        }

        BenchRow.versus("Install a fault (synack:2 from server, \(table.rules.count) rules)",
                        tcplab: Format.milliseconds(inProcess.median), baseline: "nft -f: " + Format.milliseconds(nftFile.median),
                        ratio: nftFile.median / inProcess.median, atLeast: 30,
                        note: "in-process NFTablesClient.install vs spawning nft -f; medians of \(repeats)").emit()
        BenchRow.versus("faultproxy start to rules active",
                        tcplab: Format.milliseconds(faultproxyStart.median), baseline: "nft -f: " + Format.milliseconds(nftFile.median),
                        ratio: nftFile.median / faultproxyStart.median, atLeast: nil,
                        note: "exec until \"Ctrl-C to stop.\" on stderr; medians of \(repeats)").emit()
    }

    /// From spawning faultproxy to its announcement, which it prints once the batch is acknowledged.
    private func timeFaultproxyStart() throws -> Double {
        let start = MonotonicClock.now()
        let child = try ChildProcess([common.faultproxy, "--drop", "synack:2", "--from", "server", "--target", "\(port)"])
        guard child.waitForError(containing: "Ctrl-C to stop.", timeoutSeconds: 10) else {
            child.stop()
            throw ValidationError("faultproxy did not announce its rules within 10 s: \(child.errorText)")
        }
        let elapsed = MonotonicClock.millisecondsSince(start)
        child.stop()
        return elapsed
    }
}
