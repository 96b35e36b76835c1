import TCPLabFault
import TCPLabNetlink
import TCPLabSystem

/// Applies `--delay` and `--duplicate`: reads the segments the fault rules queue, holds each
/// delayed one until its time, lets each duplicated one pass and sends its copy later; and
/// gives the drop verdict to this host's own segments a `--drop` queued (`FaultPlan.loseTag`). Runs on
/// faultproxy's event loop: the queue socket and a timerfd are two more epoll sources, the
/// deadlines one heap. No thread per segment, no sleeping.
final class DelayEngine {
    /// What the timer heap holds.
    enum Due {
        /// A delayed segment's verdict.
        case release(packetID: UInt32, mark: UInt32, tag: UInt16)
        /// A duplicated segment's copy.
        case inject(packet: [UInt8], tag: UInt16)
    }

    static let queueToken: UInt64 = 1 << 58
    static let timerToken: UInt64 = 1 << 58 | 1
    /// A copy that has not come back through the queue within this long is forgotten.
    static let copyRecognitionNanoseconds: UInt64 = 5_000_000_000

    let reader: NFQueueReader
    private let faults: [UInt16: QueuedFault]
    private let timer: MonotonicTimer
    private let injector = PacketInjector()
    private var heap = TimerQueue<Due>()
    private var jitter: JitterSource
    /// Copies sent and not yet seen again, with when to forget them.
    private var copiesInFlight: [SegmentFingerprint: UInt64] = [:]
    private(set) var statistics = DelayStatistics()
    private let log: (String) -> Void

    /// Binds a free queue (from a number derived from the pid) before any rule can queue to it.
    init(plan: FaultPlan, queueCapacity: UInt32, log: @escaping (String) -> Void) throws(SystemCallError) {
        reader = try NFQueueReader.bindingFreeQueue(from: UInt16(truncatingIfNeeded: currentProcessID()) | 0x8000,
                                                    maximumLength: queueCapacity)
        faults = Dictionary(uniqueKeysWithValues: plan.queuedFaults.map { ($0.tag, $0) })
        timer = try MonotonicTimer()
        jitter = JitterSource(seed: plan.seed ?? UInt64.random(in: .min ... .max))
        self.log = log
    }

    var queueNumber: UInt16 { reader.queue }
    var heldCount: Int { heap.count }

    func register(with epoll: Epoll) throws(SystemCallError) {
        try epoll.add(reader.fileDescriptor, events: .readable, token: Self.queueToken)
        try epoll.add(timer.descriptor, events: .readable, token: Self.timerToken)
    }

    func handles(_ token: UInt64) -> Bool { token == Self.queueToken || token == Self.timerToken }

    func handle(_ token: UInt64) throws(SystemCallError) {
        if token == Self.queueToken {
            for packet in try reader.drain() { try take(packet) }
        } else {
            timer.acknowledge()
        }
        try fireDue()
        try timer.arm(at: heap.nextDeadline)
    }

    /// At shutdown: every held segment goes on at once (better late than lost), copies not yet
    /// sent are abandoned.
    func releaseAll() {
        for packet in (try? reader.drain()) ?? [] { try? take(packet) }
        for due in heap.popAll() {
            switch due {
            case .release(let id, let mark, _):
                try? reader.verdict(.accept, packetID: id, mark: mark)
                statistics.releasedAtExit += 1
            case .inject:
                statistics.copiesAbandoned += 1
            }
        }
    }

    // MARK: - Internals

    private func take(_ packet: NFQueuePacket) throws(SystemCallError) {
        let now = MonotonicClock.now()
        let tag = QueuedFault.tag(ofMark: packet.mark)
        if tag == FaultPlan.loseTag {
            // A drop of this host's own segment: queued, so its send succeeded; now it is lost.
            statistics.lost += 1
            return try reader.verdict(.drop, packetID: packet.id, mark: packet.mark)
        }
        guard let fault = faults[tag] else {
            // Not ours: it leaves with the scratch bits clear, as if it had passed the whole table.
            statistics.untagged += 1
            return try reader.verdict(.accept, packetID: packet.id, mark: packet.mark & ~PacketClass.scratch)
        }
        // A delay's segment keeps its tag for the release chain; a duplicate's leaves clear.
        let mark = fault.verdictMark(for: packet.mark)
        switch fault.action {
        case .delay(let spec):
            statistics.count(delayed: spec.kind)
            let wait = jitter.wait(spec.delay, jitter: spec.jitter)
            heap.schedule(.release(packetID: packet.id, mark: mark, tag: tag), at: now + wait)
        case .duplicate(let spec):
            purgeForgottenCopies(now: now)
            if let fingerprint = SegmentFingerprint(packet: packet.bytes), copiesInFlight.removeValue(forKey: fingerprint) != nil {
                // Our own copy, back from the raw socket: it passes untouched.
                statistics.copiesSeen += 1
                return try reader.verdict(.accept, packetID: packet.id, mark: mark)
            }
            statistics.count(duplicated: spec.kind)
            try reader.verdict(.accept, packetID: packet.id, mark: mark)
            guard !packet.isTruncated else {
                statistics.copiesAbandoned += 1
                return log("a \(spec.kind.rawValue) segment was queued truncated (\(packet.bytes.count) bytes); no copy sent")
            }
            heap.schedule(.inject(packet: packet.bytes, tag: tag), at: now + jitter.wait(spec.copyDelay, jitter: spec.jitter))
        }
    }

    private func fireDue() throws(SystemCallError) {
        let now = MonotonicClock.now()
        for (deadline, due) in heap.popDue(now: now) {
            switch due {
            case .release(let id, let mark, _):
                // Measured before the verdict: the kernel re-injects the segment inside that
                // sendto, and on loopback runs the receiver's whole TCP processing there too.
                statistics.record(lateness: MonotonicClock.now() &- deadline)
                try reader.verdict(.accept, packetID: id, mark: mark)
            case .inject(let packet, _):
                if let fingerprint = SegmentFingerprint(packet: packet) {
                    copiesInFlight[fingerprint] = now + Self.copyRecognitionNanoseconds
                }
                do {
                    statistics.record(lateness: MonotonicClock.now() &- deadline)
                    try injector.send(packet)
                    statistics.copiesSent += 1
                } catch {
                    statistics.copiesAbandoned += 1
                    log("could not send a duplicate: \(error)")
                }
            }
        }
    }

    private func purgeForgottenCopies(now: UInt64) {
        guard !copiesInFlight.isEmpty else { return }
        copiesInFlight = copiesInFlight.filter { $0.value > now }
    }
}
