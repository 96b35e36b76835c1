import ArgumentParser
import Foundation
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Timeline capture: faultproxy's logging rules on a port, a paced stream of small segments on it,
/// and the ObservationSession reading NFLOG on this thread. A counter table of our own counts what
/// the kernel logged, so loss is counted per segment, not guessed from ENOBUFS alone.
struct CaptureBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Find the segment rate the NFLOG timeline reader keeps up with at zero loss, and its CPU cost."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "The port the traffic and the rules use.")
    var port: UInt16 = 7700

    @Option(help: "The NFLOG group.")
    var group: UInt16 = 7701

    static let goal = "≥ 50k segments/s, zero loss"

    struct Level {
        var offered: Int
        var logged: UInt64 = 0
        var received = 0
        var seconds = 0.0
        var readerCPUSeconds = 0.0
        var overflows = 0
        var lost: Int { max(0, Int(logged) - received) + overflows }
        var rate: Double { Double(received) / seconds }
    }

    func run() throws {
        let offeredRates = common.quick ? [20_000, 60_000] : [20_000, 50_000, 100_000, 150_000, 200_000, 300_000]
        let seconds = common.quick ? 0.3 : 1.0
        // One write, one segment: without this the kernel merges writes queued behind a segment
        // still in the device queue (autocorking), and the offered rate would not be the segment rate.
        try "0\n".write(toFile: "/proc/sys/net/ipv4/tcp_autocorking", atomically: false, encoding: .utf8)
        let client = try NFTablesClient()
        let plan = FaultPlan(port: port, drops: [try DropSpec(parsing: "rst")], from: .server, logGroup: group, tableName: "tcplab_bench_log")
        try client.install(try plan.linearize())
        let counting = Self.countingTable(port: port)
        try client.install(counting)
        defer {
            try? client.deleteTable(family: .inet, name: counting.name)
            try? client.deleteTable(family: .inet, name: plan.tableName)
        }
        let sink = try BlockingTCP.listener(port: port)
        defer { sink.close() }

        var levels: [Level] = []
        for offered in offeredRates {
            let level = try measure(offered: offered, seconds: seconds, client: client, counting: counting.name, sink: sink)
            levels.append(level)
            printError(String(format: "tcplab-bench capture: offered %d/s: logged %d, read %d in %.2f s (%.0f/s), lost %d, reader CPU %.0f%%",
                              offered, level.logged, level.received, level.seconds, level.rate, level.lost, 100 * level.readerCPUSeconds / level.seconds))
            if level.lost > 0 { break }
        }
        let clean = levels.filter { $0.lost == 0 }
        guard let best = clean.max(by: { $0.rate < $1.rate }) else {
            BenchRow(metric: "Timeline capture rate at zero loss", tcplab: "lost segments already at \(offeredRates[0])/s",
                     baseline: "—", ratio: nil, goal: Self.goal, met: false, note: nil).emit()
            return
        }
        let ceiling = levels.last.map {
            $0.lost > 0
                ? "the next step lost \($0.lost) of \($0.logged) segments at \(Format.count(Double($0.logged) / $0.seconds, unit: "segments/s"))"
                : "no loss at any step: the ceiling is the traffic generator's on 2 cores"
        } ?? ""
        BenchRow(metric: "Timeline capture rate at zero loss",
                 tcplab: Format.count(best.rate, unit: "segments/s"), baseline: "goal 50k/s",
                 ratio: best.rate / 50_000, goal: Self.goal, met: best.rate >= 50_000,
                 note: "highest measured rate without loss (offered rates step up); \(ceiling)").emit()
        let perSegment = best.readerCPUSeconds / Double(best.received) * 1e6
        BenchRow(metric: "Timeline capture CPU cost",
                 tcplab: String(format: "%.2f µs/segment (%.0f%% of a core)", perSegment, 100 * best.readerCPUSeconds / best.seconds),
                 baseline: "—", ratio: nil, goal: "—", met: nil,
                 note: "reader thread CPU (parse + timeline) at \(Format.count(best.rate, unit: "segments/s"))").emit()
    }

    /// `tcp sport PORT counter` and `tcp dport PORT counter` ahead of faultproxy's chain.
    static func countingTable(port: UInt16) -> NFTTable {
        let bigEndian = [UInt8(port >> 8), UInt8(port & 0xff)]
        let rules = [UInt32(0), 2].map { offset in
            NFTRule(chain: "count", expressions: [
                .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: [6]),
                .payload(base: .transport, offset: offset, length: 2, destination: .r0),
                .cmp(op: .eq, source: .r0, data: bigEndian), .counter,
            ])
        }
        return NFTTable(family: .inet, name: "tcplab_bench_count", owned: true,
                        chains: [NFTChain(name: "count", hook: .prerouting, priority: -160)], rules: rules)
    }

    private func measure(offered: Int, seconds: Double, client: NFTablesClient, counting: String, sink: Socket) throws -> Level {
        var level = Level(offered: offered)
        let before = try client.ruleCounters(table: counting).reduce(0) { $0 + $1.packets }
        let session = try ObservationSession(port: port, group: group, states: false, pcap: false)

        let receiver = BackgroundThread(name: "sink") {
            guard let (connection, _) = try? sink.accept() else { return }
            defer { connection.close() }
            try? BlockingTCP.setReceiveTimeout(connection, seconds: 10)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while (buffer.withUnsafeMutableBytes { raw in (try? connection.read(into: raw)) ?? 0 }) > 0 {}
        }
        let sender = try BlockingTCP.connect(port: port, noDelay: true)
        let generator = BackgroundThread(name: "generator") { [port] in
            defer { sender.close() }
            // One 64-byte write per segment; the ACKs the receiver sends add to the logged count.
            let message = [UInt8](repeating: 0x62, count: 64)
            let start = MonotonicClock.now()
            let total = Int(Double(offered) * seconds)
            var sent = 0
            while sent < total {
                let due = min(total, Int(Double(MonotonicClock.now() - start) / 1e9 * Double(offered)) + 1)
                while sent < due {
                    guard (try? message.withUnsafeBytes { try BlockingTCP.writeExactly(sender, $0) }) != nil else {
                        printError("tcplab-bench capture: write to port \(port) failed")
                        return
                    }
                    sent += 1
                }
                if MonotonicClock.now() - start > UInt64(seconds * 3e9) { return }  // bounded even when writes stall
                MonotonicClock.sleep(nanoseconds: 50_000)
            }
        }

        let cpuStart = Self.threadCPUSeconds()
        let start = MonotonicClock.now()
        var generatorDone = false
        var lastNews = MonotonicClock.now()
        // Bounded: the generator stops after 3× its time; then at most 0.5 s of silence ends the drain.
        while MonotonicClock.now() - start < UInt64((seconds * 3 + 5) * 1e9) {
            if try !Poll.wait(session.logDescriptor.rawValue, for: .readable, timeoutMilliseconds: 10).isEmpty {
                let fresh = try session.drainLog()
                if !fresh.isEmpty { lastNews = MonotonicClock.now() }
            }
            if !generatorDone { generatorDone = generator.join(timeoutSeconds: 0) }
            if generatorDone, MonotonicClock.now() - lastNews > 500_000_000 { break }
        }
        level.readerCPUSeconds = Self.threadCPUSeconds() - cpuStart
        // The drain's silent tail is not part of the measured interval.
        level.seconds = Double(lastNews - start) / 1e9
        receiver.join(timeoutSeconds: 10)
        level.logged = try client.ruleCounters(table: counting).reduce(0) { $0 + $1.packets } - before
        level.received = session.events.count + session.malformedSegments
        level.overflows = session.overflowEvents
        return level
    }

    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
