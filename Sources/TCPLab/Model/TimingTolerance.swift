/// How close an observed kernel event must be to the model's prediction, the way packetdrill's
/// `verify_time` judges it: max(absolute, fraction × the gap since the previous event). The
/// absolute part comes from the timer tick: timers expire on jiffies (4 ms at HZ=250) and a
/// little late, so a couple of ticks plus scheduling slack.
public struct TimingTolerance: Sendable, Hashable, CustomStringConvertible {
    public var absoluteSeconds: Double
    public var fractionOfGap: Double

    public init(absoluteSeconds: Double, fractionOfGap: Double) {
        self.absoluteSeconds = absoluteSeconds
        self.fractionOfGap = fractionOfGap
    }

    /// The kernel's timer granularity: 1/HZ. CONFIG_HZ is not readable from userspace without
    /// /proc/config.gz, so it is measured once (see `KernelClock`), with 250 Hz as the fallback.
    public static func forTick(_ tickSeconds: Double = KernelClock.tickSeconds) -> TimingTolerance {
        // Several ticks: one for rounding the timeout up to a jiffy, one for the timer wheel's
        // batching, and slack for the 2-core machine's scheduling; 3% of the gap for timers
        // that fire late and accumulate across backoff.
        TimingTolerance(absoluteSeconds: max(0.02, 5 * tickSeconds), fractionOfGap: 0.03)
    }

    public func allowance(gapSeconds: Double) -> Double { max(absoluteSeconds, fractionOfGap * abs(gapSeconds)) }

    /// nil when `observed` is within tolerance of `expected`, else the sentence that says how not.
    public func check(_ what: String, expected: Double, observed: Double, gapSeconds: Double? = nil) -> String? {
        let allowed = allowance(gapSeconds: gapSeconds ?? expected)
        guard abs(observed - expected) > allowed else { return nil }
        return "expected \(what) at +\(Self.format(expected)) s but it happened at +\(Self.format(observed)) s; tolerance \(Self.format(allowed)) s"
    }

    public var description: String { "max(\(Self.format(absoluteSeconds)) s, \(Int(fractionOfGap * 100))% of the gap)" }

    static func format(_ seconds: Double) -> String {
        let thousandths = Int((seconds * 1000).rounded())
        let fraction = abs(thousandths % 1000)
        let padded = String(repeating: "0", count: 3 - String(fraction).count) + String(fraction)
        return "\(thousandths < 0 && thousandths > -1000 ? "-" : "")\(thousandths / 1000).\(padded)"
    }
}

/// The kernel's timer tick.
public enum KernelClock {
    /// 4 ms: this project's kernels run HZ=250. (A distribution kernel with HZ=1000 only makes
    /// tolerances a little looser than they need to be.)
    public static let tickSeconds = 0.004
}
