/// Ring frames copied out as they are, to be parsed later: once a burst fills half the ring
/// the watch moves its blocks here as they come (one append per frame, no allocation) and
/// leaves the parsing, the classification and the output for when the traffic pauses. On a two-core machine every cycle the watch spends while a
/// bulk transfer runs is one the transfer loses, even at SCHED_IDLE (the other core is the same
/// physical core's sibling in a VM, or the transfer wants it).
struct ArrivalBacklog {
    private var bytes: [UInt8] = []
    private var frames: [(timeNanoseconds: Int64, end: Int)] = []

    var isEmpty: Bool { frames.isEmpty }
    var byteCount: Int { bytes.count }

    mutating func append(timeNanoseconds: Int64, _ frame: UnsafeRawBufferPointer) {
        // Typed, so the append is one memcpy rather than a loop over a raw buffer's bytes.
        bytes.append(contentsOf: UnsafeBufferPointer(start: frame.baseAddress?.assumingMemoryBound(to: UInt8.self), count: frame.count))
        frames.append((timeNanoseconds, bytes.count))
    }

    /// Hands every frame on, oldest first, and empties the backlog (keeping its capacity).
    mutating func flush(_ body: (Int64, ArraySlice<UInt8>) -> Void) {
        var start = 0
        for frame in frames {
            body(frame.timeNanoseconds, bytes[start..<frame.end])
            start = frame.end
        }
        bytes.removeAll(keepingCapacity: true)
        frames.removeAll(keepingCapacity: true)
    }
}
