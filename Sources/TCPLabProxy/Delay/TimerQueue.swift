import HeapModule

/// Things due at monotonic instants (ns), popped in deadline order; equal deadlines come out in
/// the order they were scheduled, so segments delayed by the same amount keep their order.
/// A binary heap: O(log n) per segment, no per-segment timers or threads.
struct TimerQueue<Payload> {
    private struct Entry: Comparable {
        var deadline: UInt64
        /// Scheduling order, to break ties first-in first-out.
        var order: UInt64
        var payload: Payload

        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.deadline == rhs.deadline && lhs.order == rhs.order }
        static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.deadline, lhs.order) < (rhs.deadline, rhs.order) }
    }

    private var heap = Heap<Entry>()
    private var nextOrder: UInt64 = 0

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    /// The earliest deadline, to arm the timer with.
    var nextDeadline: UInt64? { heap.min?.deadline }

    mutating func schedule(_ payload: Payload, at deadline: UInt64) {
        heap.insert(Entry(deadline: deadline, order: nextOrder, payload: payload))
        nextOrder &+= 1
    }

    /// Everything due at `now` (deadline ≤ now), earliest first, with its deadline.
    mutating func popDue(now: UInt64) -> [(deadline: UInt64, payload: Payload)] {
        var due: [(deadline: UInt64, payload: Payload)] = []
        while let first = heap.min, first.deadline <= now {
            let entry = heap.removeMin()
            due.append((entry.deadline, entry.payload))
        }
        return due
    }

    /// Everything, earliest first: what is still held when faultproxy stops.
    mutating func popAll() -> [Payload] {
        var all: [Payload] = []
        while let entry = heap.popMin() { all.append(entry.payload) }
        return all
    }
}
