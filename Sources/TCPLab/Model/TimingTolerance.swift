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

    /// Derived from the timer tick: two ticks (rounding a timeout up to a jiffy, and the jiffy
    /// already under way when the timer was armed), 2% of the gap for scheduling on a busy machine.
    public static func forTick(_ tickSeconds: Double = KernelClock.tickSeconds) -> TimingTolerance {
        TimingTolerance(absoluteSeconds: 2 * tickSeconds, fractionOfGap: 0.02)
    }

    /// The allowance for an event that ends a chain of kernel timers of these lengths: each timer
    /// may fire late by its timer-wheel granularity (`KernelClock.wheelGranularity`), and those
    /// add up along the chain; plus packetdrill's max(absolute, fraction × gap).
    public func allowance(gapSeconds: Double, timers: [Double]) -> Double {
        allowance(gapSeconds: gapSeconds) + timers.reduce(0) { $0 + KernelClock.wheelGranularity(forTimeout: $1) }
    }

    /// `check` for an event reached through kernel timers of these lengths (see `allowance(gapSeconds:timers:)`).
    public func check(_ what: String, expected: Double, observed: Double, timers: [Double]) -> String? {
        let allowed = allowance(gapSeconds: expected, timers: timers)
        guard abs(observed - expected) > allowed else { return nil }
        return "expected \(what) at +\(Self.format(expected)) s but it happened at +\(Self.format(observed)) s; tolerance \(Self.format(allowed)) s"
    }

    public func allowance(gapSeconds: Double) -> Double { max(absoluteSeconds, fractionOfGap * abs(gapSeconds)) }

    /// nil when `observed` is within tolerance of `expected`, else the sentence that says how not.
    public func check(_ what: String, expected: Double, observed: Double, gapSeconds: Double? = nil) -> String? {
        let allowed = allowance(gapSeconds: gapSeconds ?? expected)
        guard abs(observed - expected) > allowed else { return nil }
        return "expected \(what) at +\(Self.format(expected)) s but it happened at +\(Self.format(observed)) s; tolerance \(Self.format(allowed)) s"
    }

    public var description: String { "max(\(Self.format(absoluteSeconds)) s, \(Int(fractionOfGap * 100))% of the gap)" }

    public static func format(_ seconds: Double) -> String {
        let thousandths = Int((seconds * 1000).rounded())
        let fraction = abs(thousandths % 1000)
        let padded = String(repeating: "0", count: 3 - String(fraction).count) + String(fraction)
        return "\(thousandths < 0 && thousandths > -1000 ? "-" : "")\(thousandths / 1000).\(padded)"
    }
}

/// The kernel's timer tick and timer wheel.
public enum KernelClock {
    /// 4 ms: this project's kernels run HZ=250. (A distribution kernel with HZ=1000 only makes
    /// tolerances a little looser than they need to be.)
    public static let tickSeconds = 0.004

    /// How late a timer of this length may fire. Since Linux 4.8 the timer wheel does not
    /// cascade: a timer lands in the level whose range holds its timeout, and expires at that
    /// level's granularity, 8^level jiffies (kernel/time/timer.c: LVL_CLK_SHIFT 3, 64 buckets
    /// a level). At HZ=250: up to 63 jiffies exact, up to 2 s within 32 ms, up to 16 s within
    /// 256 ms, up to 131 s within 2 s. TCP's retransmission timer is such a timer.
    public static func wheelGranularity(forTimeout seconds: Double, tickSeconds: Double = tickSeconds) -> Double {
        let jiffies = Int((seconds / tickSeconds).rounded(.up))
        var level = 0
        var levelEnd = 64  // jiffies covered by level 0
        while jiffies >= levelEnd, level < 8 {
            level += 1
            levelEnd *= 8
        }
        return Double(1 << (3 * level)) * tickSeconds
    }
}
