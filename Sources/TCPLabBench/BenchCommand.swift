import ArgumentParser

@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcplab-bench",
        abstract: "Measure TCPLab against the baselines a user would otherwise pick.",
        discussion: """
            Each subcommand measures one thing side by side with its baseline in the same run and \
            prints one JSON object per table row on stdout. scripts/bench runs them all in network \
            namespaces it creates and renders the rows with `tcplab-bench report`. Needs root for \
            nftables, NFLOG and faultproxy.
            """,
        subcommands: [
            InstallBenchmark.self, ThroughputBenchmark.self, LatencyBenchmark.self, DelayBenchmark.self,
            CaptureBenchmark.self, EchoBenchmark.self, RecordRow.self, ReportCommand.self,
        ]
    )
}

/// What every measuring subcommand shares.
struct CommonOptions: ParsableArguments {
    @Flag(help: "Smoke run: few repeats and small volumes, to prove the suite works (figures are not judged).")
    var quick = false

    @Option(help: ArgumentHelp("The faultproxy executable (a release build).", valueName: "path"))
    var faultproxy = "faultproxy"

    /// The repeat count for the full or the quick run.
    func repeats(full: Int, quick smoke: Int) -> Int { quick ? smoke : full }
}
