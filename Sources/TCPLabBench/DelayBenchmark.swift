import ArgumentParser
import TCPLabSystem

/// Delay precision: faultproxy holds each SYN-ACK for a configured time; the client's connect()
/// takes that much longer than a direct connect. Error = |observed extra − configured|.
struct DelayBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delay",
        abstract: "Compare configured and observed segment delays (faultproxy --delay synack=D)."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "The server port (the kernel completes handshakes; nothing is accepted).")
    var port: UInt16 = 7600

    static let goal = "p99 error ≤ 1 ms"

    func run() throws {
        let plan: [(label: String, milliseconds: Double, repeats: Int)] = common.quick
            ? [("10ms", 10, 3), ("100ms", 100, 3)]
            : [("1ms", 1, 20), ("10ms", 10, 20), ("100ms", 100, 20), ("1s", 1000, 5)]
        let listener = try BlockingTCP.listener(port: port, backlog: 4096)
        defer { listener.close() }

        var direct = Samples()
        for _ in 0..<20 {
            guard let elapsed = try BlockingTCP.timedConnect(port: port, timeoutMilliseconds: 2000) else {
                throw ValidationError("a direct connect to port \(port) did not complete")
            }
            direct.append(elapsed)
        }

        for (index, step) in plan.enumerated() {
            let metric = "Delay precision synack=\(step.label)"
            let proxy = try ChildProcess([common.faultproxy, "--delay", "synack=\(step.label)", "--target", "\(port)"])
            defer { proxy.stop() }
            guard proxy.waitForError(containing: "Ctrl-C to stop.", timeoutSeconds: 10) else {
                let said = proxy.errorText.split(separator: "\n").first.map(String.init) ?? "no message"
                return skipAll(plan[index...], "skipped: faultproxy --delay not available (\(said))")
            }
            var errors = Samples(), observed = Samples()
            for attempt in 0..<step.repeats {
                let timeout = Int32(step.milliseconds * 3 + 2000)
                guard let elapsed = try BlockingTCP.timedConnect(port: port, timeoutMilliseconds: timeout) else {
                    return skipAll(plan[index...], "skipped: faultproxy --delay not available (connect under synack=\(step.label) did not complete within \(timeout) ms)")
                }
                let extra = elapsed - direct.median
                if attempt == 0, extra < step.milliseconds / 2 {
                    return skipAll(plan[index...], "skipped: faultproxy --delay not available (synack=\(step.label) delayed connect by only \(Format.milliseconds(extra)))")
                }
                observed.append(extra)
                errors.append(abs(extra - step.milliseconds))
            }
            let p99 = errors.percentile(99)
            BenchRow(metric: metric,
                     tcplab: "error p50 \(Format.milliseconds(errors.median)), p99 \(Format.milliseconds(p99)), max \(Format.milliseconds(errors.maximum))",
                     baseline: "configured \(Format.milliseconds(step.milliseconds)); observed \(Format.milliseconds(observed.median))",
                     ratio: nil, goal: Self.goal, met: p99 <= 1,
                     note: "connect() time minus a direct connect (\(Format.milliseconds(direct.median))); \(step.repeats) connects").emit()
        }
    }

    private func skipAll(_ steps: ArraySlice<(label: String, milliseconds: Double, repeats: Int)>, _ reason: String) {
        printError("tcplab-bench delay: \(reason)")
        for step in steps {
            BenchRow.skipped("Delay precision synack=\(step.label)", goal: Self.goal, reason: reason).emit()
        }
    }
}
