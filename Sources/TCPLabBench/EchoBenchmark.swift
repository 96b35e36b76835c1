import ArgumentParser
import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Echo server: how many concurrent connections echo-server holds (each proven alive by a second
/// echo), and connections per second (connect, echo, close), each beside a minimal C epoll echo.
struct EchoBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Concurrent connections held and connections per second: echo-server vs a minimal C echo."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: ArgumentHelp("The echo-server executable.", valueName: "path"))
    var echoServer = "echo-server"

    @Option(help: ArgumentHelp("The C baseline (scripts/bench-baselines/echo-baseline.c, built by scripts/bench).", valueName: "path"))
    var baseline = "echo-baseline"

    @Option(help: "Concurrent connections to hold (default: 10000, 1000 with --quick).")
    var connections: Int?

    @Option(help: "Connections for the rate (default: 20000, 2000 with --quick).")
    var churn: Int?

    @Option(help: "First of two ports (echo-server, baseline).")
    var port: UInt16 = 7800

    func run() throws {
        let holdTarget = connections ?? (common.quick ? 1_000 : 10_000)
        let churnTotal = churn ?? (common.quick ? 2_000 : 20_000)
        // Client and server are separate processes: each needs one descriptor per connection. The
        // servers this spawns inherit the limit; raising the hard one too needs CAP_SYS_RESOURCE.
        let limit = try OpenFileLimit.raiseSoft(to: UInt64(holdTarget) + 1024)

        let variants: [(name: String, arguments: [String], port: UInt16)] = [
            ("echo-server", [echoServer, "--port", "\(port)", "--backlog", "4096"], port),
            ("C epoll echo", [baseline, "\(port + 1)"], port + 1),
        ]
        var held: [Int] = [], rates: [Double] = [], holdSeconds: [Double] = []
        for variant in variants {
            let server = try ChildProcess(variant.arguments, watchError: false)
            defer { server.stop() }
            try Self.waitUntilListening(variant.port, server)

            // Hold: open them all, echo once each, then echo once more on each to prove it is still served.
            let holder = try ConnectionDriver(port: variant.port)
            let start = MonotonicClock.now()
            try holder.run(total: holdTarget, concurrency: 256, rounds: 1, hold: true, deadline: start + 60_000_000_000)
            holdSeconds.append(Double(MonotonicClock.now() - start) / 1e9)
            held.append(try holder.pingHeld(deadline: MonotonicClock.now() + 30_000_000_000))
            holder.closeAll()
            MonotonicClock.sleep(nanoseconds: 200_000_000)  // let the server reap the closed ones

            let churner = try ConnectionDriver(port: variant.port)
            let churnStart = MonotonicClock.now()
            try churner.run(total: churnTotal, concurrency: 64, rounds: 1, hold: false, deadline: churnStart + 60_000_000_000)
            rates.append(Double(churner.completed) / (Double(MonotonicClock.now() - churnStart) / 1e9))
            if churner.failed > 0 { printError("tcplab-bench echo: \(variant.name): \(churner.failed) of \(churnTotal) connections failed") }
        }

        BenchRow(metric: "echo-server concurrent connections held",
                 tcplab: "\(held[0]) of \(holdTarget)", baseline: "C epoll echo: \(held[1])",
                 ratio: held[1] > 0 ? Double(held[0]) / Double(held[1]) : nil, goal: "≥ 10k (fd limit \(limit))",
                 met: holdTarget >= 10_000 ? held[0] >= 10_000 : nil,
                 note: String(format: "each echoed twice; opened in %.2f s vs %.2f s", holdSeconds[0], holdSeconds[1])).emit()
        BenchRow(metric: "echo-server connections per second",
                 tcplab: Format.count(rates[0], unit: "conn/s"), baseline: "C epoll echo: " + Format.count(rates[1], unit: "conn/s"),
                 ratio: rates[0] / rates[1], goal: "—", met: nil,
                 note: "connect, 1-byte echo, close; 64 at a time; \(churnTotal) connections").emit()
    }

    static func waitUntilListening(_ port: UInt16, _ server: ChildProcess) throws {
        for _ in 0..<500 {  // 5 s at most
            if try BlockingTCP.timedConnect(port: port, timeoutMilliseconds: 100) != nil { return }
            if server.hasExited { break }
            MonotonicClock.sleep(nanoseconds: 10_000_000)
        }
        throw ValidationError("\(server.arguments[0]) is not listening on port \(port): \(server.errorText)")
    }
}
