import TCPLabFault

/// Draws each segment's wait, `delay ± jitter` (uniform, never below zero), from `SplitMix64`,
/// so `--seed` repeats a run's delays exactly.
struct JitterSource {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

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
