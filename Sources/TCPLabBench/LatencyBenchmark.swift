import ArgumentParser
import Histogram
import TCPLabSystem

/// Relay latency: small-message round trips on one connection (TCP_NODELAY on both ends), direct
/// and through faultproxy's relay, recorded in HDR histograms.
struct LatencyBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Round-trip small messages through faultproxy's relay vs direct; HDR percentiles."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Round trips per variant (default: 100000, 5000 with --quick).")
    var messages: Int?

    @Option(help: "Bytes per message.")
    var size = 64

    @Option(help: "First of two ports (echo, faultproxy).")
    var port: UInt16 = 7500

    func run() throws {
        let count = messages ?? (common.quick ? 5_000 : 100_000)
        let echo = try BlockingTCP.listener(port: port)
        defer { echo.close() }
        let relay = try Middlebox.faultproxy(common.faultproxy, listen: port + 1, upstream: port)
        defer { relay.stop() }

        // Alternate halves, so a burst of load elsewhere hits both variants alike.
        var direct = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var relayed = direct
        for _ in 0..<2 {
            direct.add(try roundTrips(count / 2, to: port, echo: echo))
            relayed.add(try roundTrips(count / 2, to: port + 1, echo: echo))
        }
        let added = Double(relayed.valueAtPercentile(50)) - Double(direct.valueAtPercentile(50))
        for (label, p) in [("p50", 50.0), ("p99", 99.0), ("p99.9", 99.9)] {
            let through = Double(relayed.valueAtPercentile(p)) / 1000
            let baseline = Double(direct.valueAtPercentile(p)) / 1000
            let isMedian = p == 50
            BenchRow(metric: "Relay round trip \(label) (\(size) B messages)",
                     tcplab: Format.microseconds(through), baseline: "direct: " + Format.microseconds(baseline),
                     ratio: baseline / through,
                     goal: isMedian ? "added ≤ 20 µs" : "—",
                     met: isMedian ? added / 1000 <= 20 : nil,
                     note: isMedian ? "added \(Format.microseconds(added / 1000)); \(count) round trips each" : nil).emit()
        }
    }

    /// Runs `count` round trips (after a warm-up) on a new connection and returns their histogram in ns.
    private func roundTrips(_ count: Int, to port: UInt16, echo: Socket) throws -> Histogram<UInt64> {
        let size = self.size
        let server = BackgroundThread(name: "echo") {
            guard let (connection, _) = try? echo.accept() else { return }
            defer { connection.close() }
            try? BlockingTCP.setNoDelay(connection)
            try? BlockingTCP.setReceiveTimeout(connection, seconds: 10)
            var buffer = [UInt8](repeating: 0, count: size)
            while (try? buffer.withUnsafeMutableBytes { try BlockingTCP.readExactly(connection, $0) }) == true {
                guard (try? buffer.withUnsafeBytes { try BlockingTCP.writeExactly(connection, $0) }) != nil else { return }
            }
        }
        let client = try BlockingTCP.connect(port: port, noDelay: true)
        defer {
            client.close()
            server.join(timeoutSeconds: 10)
        }
        try BlockingTCP.setReceiveTimeout(client, seconds: 10)
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var message = [UInt8](repeating: 0x61, count: size)
        let warmUp = min(1000, count / 10)
        for index in 0..<(warmUp + count) {
            let start = MonotonicClock.now()
            try message.withUnsafeBytes { try BlockingTCP.writeExactly(client, $0) }
            guard try message.withUnsafeMutableBytes({ try BlockingTCP.readExactly(client, $0) }) else {
                throw ValidationError("port \(port): the echo closed after \(index) round trips")
            }
            if index >= warmUp { _ = histogram.record(MonotonicClock.now() - start) }
        }
        return histogram
    }
}
