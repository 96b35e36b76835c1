import TCPLabFault

/// Draws each segment's wait, `delay ± jitter` (uniform, never below zero). SplitMix64: small,
/// fast and the same on every machine, so `--seed` repeats a run's delays exactly.
struct JitterSource {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Nanoseconds to wait. Without jitter no number is drawn.
    mutating func wait(_ delay: FaultDuration, jitter: FaultDuration) -> UInt64 {
        guard jitter.nanoseconds > 0 else { return delay.nanoseconds }
        let span = jitter.nanoseconds.multipliedReportingOverflow(by: 2)
        let width = span.overflow ? UInt64.max : span.partialValue &+ 1
        let offset = width == 0 ? next() : next() % width  // 0 ... 2·jitter
        let (high, overflow) = delay.nanoseconds.addingReportingOverflow(offset)
        if overflow { return UInt64.max - jitter.nanoseconds }
        return high >= jitter.nanoseconds ? high - jitter.nanoseconds : 0
    }
}
