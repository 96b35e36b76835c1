import ArgumentParser

/// A row measured outside Swift (the lab catalogue's wall time, timed by scripts/bench), in the
/// same JSON form as the others.
struct RecordRow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Print one result row as JSON (for figures scripts/bench measures itself)."
    )

    @Option var metric: String
    @Option var tcplab: String = "skipped"
    @Option var baseline: String = "—"
    @Option var ratio: Double?
    @Option var goal: String = "—"
    @Option(help: "yes or no; omit when there is no goal or the row is skipped.")
    var met: String?
    @Option var note: String?

    func run() throws {
        BenchRow(metric: metric, tcplab: tcplab, baseline: baseline, ratio: ratio, goal: goal,
                 met: met.map { $0 == "yes" }, note: note).emit()
    }
}
