import ArgumentParser
import TCPLabSystem

/// Relay throughput: one connection carrying N bytes one way, into a sink that only counts, sent
/// directly, through faultproxy's relay and through socat.
struct ThroughputBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throughput",
        abstract: "Stream bytes through faultproxy's relay vs direct loopback vs socat."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "MiB per transfer (default: 1024, 64 with --quick).")
    var mebibytes: Int?

    @Option(help: "First of three ports (sink, faultproxy, socat).")
    var port: UInt16 = 7400

    private static let chunk = 256 * 1024

    func run() throws {
        let bytes = (mebibytes ?? (common.quick ? 64 : 1024)) << 20
        let repeats = common.repeats(full: 3, quick: 1)
        let sink = try BlockingTCP.listener(port: port)
        defer { sink.close() }
        let relay = try Middlebox.faultproxy(common.faultproxy, listen: port + 1, upstream: port)
        defer { relay.stop() }
        let socat = try Middlebox.socat(listen: port + 2, upstream: port)
        defer { socat.stop() }

        var direct = Samples(), relayed = Samples(), socatted = Samples()
        for _ in 0..<repeats {
            direct.append(try transfer(bytes, to: port, sink: sink))
            relayed.append(try transfer(bytes, to: port + 1, sink: sink))
            socatted.append(try transfer(bytes, to: port + 2, sink: sink))
        }
        let size = "\(bytes >> 20) MiB"
        BenchRow.versus("Relay throughput (\(size), one connection) vs direct",
                        tcplab: Format.rate(relayed.median), baseline: "direct: " + Format.rate(direct.median),
                        ratio: relayed.median / direct.median, atLeast: 0.9, note: "medians of \(repeats)").emit()
        BenchRow.versus("Relay throughput (\(size), one connection) vs socat",
                        tcplab: Format.rate(relayed.median), baseline: "socat: " + Format.rate(socatted.median),
                        ratio: relayed.median / socatted.median, atLeast: 3,
                        note: "socat with its defaults (8 KiB buffer); medians of \(repeats)").emit()
    }

    /// Sends `bytes` to `port` and returns MiB/s from connect until the sink saw the end of stream.
    private func transfer(_ bytes: Int, to port: UInt16, sink: Socket) throws -> Double {
        let received = SharedBox<(bytes: Int, end: UInt64)>((0, 0))
        let reader = BackgroundThread(name: "sink") {
            guard let (connection, _) = try? sink.accept() else { return }
            defer { connection.close() }
            try? BlockingTCP.setReceiveTimeout(connection, seconds: 30)
            var buffer = [UInt8](repeating: 0, count: Self.chunk)
            var total = 0
            while true {
                let count = buffer.withUnsafeMutableBytes { raw in (try? connection.read(into: raw)) ?? 0 }
                if count <= 0 { break }
                total += count
            }
            received.value = (total, MonotonicClock.now())
        }
        let start = MonotonicClock.now()
        let source = try BlockingTCP.connect(port: port)
        let payload = [UInt8](repeating: 0x5a, count: Self.chunk)
        var sent = 0
        while sent < bytes {
            let size = min(Self.chunk, bytes - sent)
            try payload.withUnsafeBytes { try BlockingTCP.writeExactly(source, UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
            sent += size
        }
        try source.shutdown(.write)
        // Bounded: even 10 MiB/s moves the largest transfer well within this.
        let finished = reader.join(timeoutSeconds: Double(bytes >> 20) / 10 + 30)
        source.close()
        let result = received.value
        guard finished, result.bytes == bytes else {
            throw ValidationError("transfer to port \(port): the sink received \(result.bytes) of \(bytes) bytes")
        }
        return Double(bytes) / 1_048_576 / (Double(result.end - start) / 1e9)
    }
}
