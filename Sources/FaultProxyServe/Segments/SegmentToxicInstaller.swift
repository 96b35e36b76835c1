import Foundation
import Logging
import Synchronization
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabProxy
import TCPLabSystem

/// A proxy's segment toxics in the kernel: one FaultSession (TCPLabProxy) per leg in use, each
/// with its own owner table, NFLOG group and NFQUEUE, on a thread of its own, in transparent
/// mode on that leg's port (the proxy's own relay carries the bytes). A change of the segment
/// toxics stops the sessions (their tables go) and starts the new set before the API answers,
/// so deleting a toxic restores traffic at once. The timeline the sessions log is kept for
/// GET /proxies/NAME/timeline; their pcaps for /pcap.
final class SegmentToxicInstaller: Sendable {
    struct Counter { var toxic: String; var action: String; var packets: UInt64 }

    let proxyName: String
    let logger: Logger
    private let logGroup: UInt16
    private let tableBase: String
    private let state = Mutex<State>(State())

    private struct State {
        var listenPort: UInt16?
        var upstreamPort: UInt16?
        var toxics: [Toxic] = []
        var running: [SegmentSessionRunner] = []
        var timeline: [String] = []
        var pcap = PcapCollector()
        var finishedCounters: [Counter] = []
    }

    private static let serial = Atomic<UInt16>(0)

    init(proxyName: String, logger: Logger) {
        self.proxyName = proxyName
        self.logger = logger
        let index = Self.serial.add(1, ordering: .relaxed).newValue
        // Groups and tables of their own per proxy: many proxies (and servers) in one namespace.
        logGroup = 20000 &+ UInt16(truncatingIfNeeded: currentProcessID() % 2000) &* 16 &+ index &* 4
        tableBase = "faultproxy_\(currentProcessID())_serve\(index)"
    }

    func proxyStarted(listenPort: UInt16, upstream: String) {
        let upstreamPort = (try? HostResolver.resolve(upstream))?.port
        let toxics = state.withLock { current -> [Toxic]? in
            guard current.listenPort != listenPort || current.upstreamPort != upstreamPort else { return nil }
            current.listenPort = listenPort
            current.upstreamPort = upstreamPort
            return current.toxics
        }
        if let toxics { try? apply(toxics) }
    }

    /// Makes the kernel's rules match `toxics` (the proxy's whole list; others are ignored).
    func apply(_ toxics: [Toxic]) throws(APIError) {
        let segmentToxics = toxics.filter { $0.type.isSegmentToxic }
        try state.withLock { (current: inout State) throws(APIError) in
            let plans = try SegmentPlanner.plans(segmentToxics, listenPort: current.listenPort, upstreamPort: current.upstreamPort,
                                                 logGroup: logGroup, tableBase: tableBase)
            current.toxics = segmentToxics
            guard Set(plans.values) != Set(current.running.map(\.plan)) else { return }
            stopAll(&current)
            for plan in plans.values.sorted(by: { $0.tableName < $1.tableName }) {
                let runner = SegmentSessionRunner(plan: plan, proxyName: proxyName, logger: logger)
                try runner.start()
                current.running.append(runner)
            }
        }
    }

    func remove() { state.withLock { stopAll(&$0) } }

    private func stopAll(_ current: inout State) {
        for runner in current.running {
            let ending = runner.stop()
            current.timeline += ending.timeline
            current.pcap.add(ending.pcap)
            current.finishedCounters += ending.counters
        }
        current.running = []
    }

    func counters() -> [Counter] {
        state.withLock { current in
            var totals: [String: Counter] = [:]
            for counter in current.finishedCounters + current.running.flatMap({ $0.liveCounters() }) {
                totals["\(counter.toxic)|\(counter.action)", default: Counter(toxic: counter.toxic, action: counter.action, packets: 0)]
                    .packets += counter.packets
            }
            return totals.values.sorted { ($0.toxic, $0.action) < ($1.toxic, $1.action) }
        }
    }

    func timelineJSONLines() -> String {
        state.withLock { current in
            (current.timeline + current.running.flatMap { $0.timelineSoFar() }).map { $0 + "\n" }.joined()
        }
    }

    /// The pcap of every segment logged so far. A running session keeps its packets until it
    /// ends, so it is restarted with the same plan (its table is re-made in one batch).
    func pcapBytes() -> [UInt8] {
        state.withLock { current in
            let plans = current.running.map(\.plan)
            stopAll(&current)
            for plan in plans {
                let runner = SegmentSessionRunner(plan: plan, proxyName: proxyName, logger: logger)
                if (try? runner.start()) != nil { current.running.append(runner) }
            }
            return current.pcap.bytes
        }
    }
}

/// Concatenates pcaps (one global header, then every session's records).
struct PcapCollector {
    private(set) var bytes: [UInt8] = []

    mutating func add(_ pcap: [UInt8]) {
        guard pcap.count > 24 else { return }
        if bytes.isEmpty { bytes = pcap } else { bytes += pcap[24...] }
    }
}
