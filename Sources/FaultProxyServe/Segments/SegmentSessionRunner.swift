import Foundation
import Synchronization
import Logging
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabProxy
import TCPLabSystem

/// One FaultSession on its own thread: started when a segment toxic is added, stopped (its
/// table removed by the session, or by the kernel if the process dies) when it goes.
final class SegmentSessionRunner: Sendable {
    let plan: FaultPlan
    private let stopSignal: EventFD?
    private let output: ServeSessionOutput
    private let done = DispatchSemaphore(value: 0)
    private let logger: Logger

    struct Ending {
        var timeline: [String] = []
        var pcap: [UInt8] = []
        var counters: [SegmentToxicInstaller.Counter] = []
    }

    init(plan: FaultPlan, proxyName: String, logger: Logger) {
        self.plan = plan
        self.logger = logger
        stopSignal = try? EventFD()
        output = ServeSessionOutput(proxyName: proxyName, logger: logger)
    }

    /// Starts the session and returns once its rules are in the kernel (or it failed).
    func start() throws(APIError) {
        guard let stopSignal, let group = plan.logGroup else { throw APIError(500, "eventfd: cannot make a stop signal") }
        let plan = plan, output = output, done = done
        Thread {
            do {
                let session = FaultSession(plan: plan, scope: .transparent(port: plan.port),
                                           watch: .init(group: group, states: false, pcap: true))
                try session.run(stop: stopSignal, output: output)
            } catch {
                output.failed(error)
            }
            done.signal()
        }.start()
        if let failure = output.waitUntilInstalled() {
            done.wait()
            throw APIError(500, "segment toxic: \(failure)")
        }
        logger.info("segment toxics installed", metadata: ["table": "\(plan.tableName)", "port": "\(plan.port)"])
    }

    /// Stops the session and waits until its table is gone.
    func stop() -> Ending {
        stopSignal?.signal()
        done.wait()
        return output.ending()
    }

    func timelineSoFar() -> [String] { output.timeline() }
    func liveCounters() -> [SegmentToxicInstaller.Counter] { [] }
}

/// A session's news, kept for the API instead of printed.
final class ServeSessionOutput: FaultSessionOutput, Sendable {
    private struct State {
        var lines: [String] = []
        var pcap: [UInt8] = []
        var counters: [SegmentToxicInstaller.Counter] = []
        var failure: String?
        var installed = false
    }
    private let state = Mutex<State>(State())
    private let ready = DispatchSemaphore(value: 0)
    let proxyName: String
    let logger: Logger

    init(proxyName: String, logger: Logger) {
        self.proxyName = proxyName
        self.logger = logger
    }

    func waitUntilInstalled() -> String? {
        ready.wait()
        return state.withLock { $0.failure }
    }

    func failed(_ error: any Error) {
        let first = state.withLock { current -> Bool in
            defer { if current.failure == nil { current.failure = "\(error)" } }
            return !current.installed
        }
        logger.error("segment toxic session failed", metadata: ["proxy": "\(proxyName)", "error": "\(error)"])
        if first { ready.signal() }
    }

    func timeline() -> [String] { state.withLock { $0.lines } }

    func ending() -> SegmentSessionRunner.Ending {
        state.withLock { .init(timeline: $0.lines, pcap: $0.pcap, counters: $0.counters) }
    }

    func notice(_ message: String) { logger.info("\(message)", metadata: ["proxy": "\(proxyName)"]) }

    func installed(_ table: NFTTable, scope: FaultScope) {
        state.withLock { $0.installed = true }
        ready.signal()
    }

    func segments(_ events: [TimelineEvent]) {
        let lines = events.map { JSONLines.encode(TimelineRecord.segment($0)) }
        state.withLock { $0.lines += lines }
    }

    func kernel(_ events: [KernelEvent]) {
        let lines = events.map { JSONLines.encode(TimelineRecord.kernel($0.record)) }
        state.withLock { $0.lines += lines }
    }

    func states(_ transitions: [SocketTransition]) {
        let lines = transitions.map { JSONLines.encode(TimelineRecord.state($0.record)) }
        state.withLock { $0.lines += lines }
    }

    func finished(_ ending: FaultSessionEnding) throws {
        var pcap: [UInt8] = []
        if let watch = ending.watch {
            let path = NSTemporaryDirectory() + "faultproxy-serve-\(UUID().uuidString).pcap"
            try? watch.writePcap(to: path)
            pcap = FileManager.default.contents(atPath: path).map { Array($0) } ?? []
            try? FileManager.default.removeItem(atPath: path)
        }
        var counters = ending.drops.dropped.map { SegmentToxicInstaller.Counter(toxic: $0.key, action: "drop", packets: $0.value) }
        if let delays = ending.delays {
            counters += delays.delayed.map { .init(toxic: $0.key, action: "delay", packets: UInt64($0.value)) }
            counters += delays.duplicated.map { .init(toxic: $0.key, action: "duplicate", packets: UInt64($0.value)) }
        }
        state.withLock { current in
            current.pcap = pcap
            current.counters = counters
        }
    }
}
