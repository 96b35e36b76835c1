/// One time order for a capture's two sources: the packet ring's copy of every segment that
/// arrives, and the NFLOG records of faultproxy's rules (a fault's verdict on an arrival, a host's
/// own segments as they leave, the release of a held one).
///
/// A fault's record of an arrival is the same packet as a ring frame a little earlier: the same
/// bytes (the same copy range), logged at prerouting some µs after the capture tap saw it
/// (measured 16–40 µs on loopback: NFLOG stamps the record when it logs it). The two become one
/// segment, at the frame's time, with the fault's fate. Segments go on in time order once both
/// sources are complete up to them (`release(before:)`).
struct CaptureMerge {
    private struct Entry {
        var segment: CapturedSegment
        /// Read order, to keep equal timestamps in the order they were read.
        var order: UInt64
        var fromRing: Bool
    }

    /// How much later than its frame a fault's record of an arrival may be stamped.
    static let pairingWindowMicroseconds: Int64 = 5_000

    private var pending: [Entry] = []
    /// Nothing was added since `pending` was last sorted: a release while the watermark waits
    /// (every poll during a burst) costs a comparison, not a sort.
    private var pendingSorted = true
    /// Faults' records of arrivals, waiting for their frame.
    private var verdicts: [Entry] = []
    private var added: UInt64 = 0
    /// Fault records folded into their frame: one segment, not two.
    private(set) var pairs: UInt64 = 0
    /// Fault records of arrivals that found no frame (the ring was full): the segment, once.
    private(set) var unpairedVerdicts: UInt64 = 0

    var isEmpty: Bool { pending.isEmpty && verdicts.isEmpty }

    /// A segment the ring saw arrive.
    mutating func addArrival(_ segment: CapturedSegment) {
        pending.append(entry(segment, fromRing: true))
        pendingSorted = false
    }

    /// A segment an NFLOG rule logged. `kernelStamped`: the record carries NFLOG's own timestamp
    /// (logged at prerouting: the packet arrived, so the ring has it too).
    mutating func addLogged(_ segment: CapturedSegment, kernelStamped: Bool) {
        let verdict = segment.fate == .dropped || segment.fate == .delayed || segment.fate == .duplicated
        if kernelStamped && verdict {
            verdicts.append(entry(segment, fromRing: false))
        } else {
            pending.append(entry(segment, fromRing: false))
            pendingSorted = false
        }
    }

    private mutating func entry(_ segment: CapturedSegment, fromRing: Bool) -> Entry {
        added += 1
        return Entry(segment: segment, order: added, fromRing: fromRing)
    }

    /// The segments stamped a pairing window before `watermark` (µs since the epoch: both sources
    /// are complete up to it), in time order, each fault record folded into its frame; the rest
    /// wait. `Int64.max`: everything.
    mutating func release(before watermark: Int64) -> [CapturedSegment] {
        let cut = watermark == .max ? .max : watermark - Self.pairingWindowMicroseconds
        if !pendingSorted {
            pending.sort(by: Self.earlier)
            pendingSorted = true
        }
        let settled = pending.partitioningIndex { $0.segment.timestampMicroseconds >= cut }
        var ready: [Entry] = []
        if settled > 0 {
            ready = Array(pending[..<settled])
            pending.removeFirst(settled)
        }
        if !verdicts.isEmpty {
            for index in ready.indices where ready[index].fromRing {
                let frame = ready[index].segment
                guard let match = verdicts.firstIndex(where: {
                    let lateness = $0.segment.timestampMicroseconds - frame.timestampMicroseconds
                    return lateness >= 0 && lateness <= Self.pairingWindowMicroseconds && $0.segment.packet == frame.packet
                }) else { continue }
                let verdict = verdicts.remove(at: match).segment
                ready[index].segment.fate = verdict.fate
                ready[index].segment.faultKind = verdict.faultKind
                ready[index].segment.faultTiming = verdict.faultTiming
                pairs += 1
            }
            // A verdict whose frame would have come by now stands alone (the ring was full).
            let hasExpired = { (verdict: Entry) in cut == .max || verdict.segment.timestampMicroseconds < cut - Self.pairingWindowMicroseconds }
            let expired = verdicts.filter(hasExpired)
            if !expired.isEmpty {
                unpairedVerdicts += UInt64(expired.count)
                verdicts.removeAll(where: hasExpired)
                ready = (ready + expired).sorted(by: Self.earlier)
            }
        }
        return ready.map(\.segment)
    }

    private static func earlier(_ a: Entry, _ b: Entry) -> Bool {
        (a.segment.timestampMicroseconds, a.order) < (b.segment.timestampMicroseconds, b.order)
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, in an array ordered so that every
    /// element that does comes after every one that does not.
    fileprivate func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
