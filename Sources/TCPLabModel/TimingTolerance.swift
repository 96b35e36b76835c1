/// The one judge of kernel timings (labs, `Observation`, `ClientResult`, the Docker judge):
/// packetdrill-style, each timed event is judged from the event that armed its timer, and the
/// window follows from the kernel's timer wheel instead of a percentage of the time since the
/// connection began.
///
/// A timer of T jiffies armed at jiffy J is queued with expires = J + T and fires at its wheel
/// bucket's expiry, which is rounded *up* to the level's granularity G (kernel/time/timer.c,
/// calc_index: `expires = (expires >> LVL_SHIFT(lvl)) + 1`), so it fires in (J + T, J + T + G]
/// jiffies, never before. Measured from the arming event (on a clock that is not jiffies) the
/// timer fires after T − 1 tick at the earliest (the event may fall at the very end of jiffy J, and
/// jiffies themselves are updated a little irregularly on a tickless kernel) and T + G + 1 tick
/// at the latest, plus the time the softirq (or, for a time a process reports, the woken
/// process) takes to run: the scheduling margin. So the window is asymmetric:
/// `[expected − tick, expected + slot + tick + margin]`.
///
/// When the events in between were not observed (a give-up measured by the client from its
/// connect() call), the timers' lateness adds up along the chain; the early side stays one tick
/// because none of them fires early. An event that no timer fires (an answer the kernel sends at
/// once) gets one tick either side plus the margin late. `resolutionSeconds` widens both sides
/// for a measurement that is itself coarse (a /proc timer in 10 ms units, a sampled state).
public struct TimingTolerance: Sendable, Hashable, CustomStringConvertible {
    /// One jiffy (4 ms at HZ=250).
    public var tickSeconds: Double
    /// Softirq and wake-up latency on top of the timer wheel; measured on the labs (docs/timeline-json.md).
    public var marginSeconds: Double

    public init(tickSeconds: Double = KernelClock.tickSeconds, marginSeconds: Double = TimingTolerance.defaultMarginSeconds) {
        self.tickSeconds = tickSeconds
        self.marginSeconds = marginSeconds
    }

    /// 10 ms: the largest lateness beyond slot + tick seen in five rounds of every lab on a loaded
    /// two-core machine was well under it (docs/benchmarks.md).
    public static let defaultMarginSeconds = 0.010

    /// The judge for a kernel with this tick.
    public static func forTick(_ tickSeconds: Double = KernelClock.tickSeconds) -> TimingTolerance {
        TimingTolerance(tickSeconds: tickSeconds)
    }

    /// How early and how late an event may come after the chain of `timers` that leads to it
    /// from its anchor (one timer when the anchor is the event that armed it; none for an
    /// immediate answer).
    public func window(timers: [Double], resolutionSeconds: Double = 0) -> TimingWindow {
        let late = timers.reduce(0) { $0 + KernelClock.wheelGranularity(forTimeout: $1, tickSeconds: tickSeconds) + tickSeconds }
        return TimingWindow(early: tickSeconds + resolutionSeconds,
                            late: (timers.isEmpty ? tickSeconds : late) + marginSeconds + resolutionSeconds)
    }

    /// The latest an event may come after `expected` (for how long to wait for it).
    public func allowance(timers: [Double], resolutionSeconds: Double = 0) -> Double {
        window(timers: timers, resolutionSeconds: resolutionSeconds).late
    }

    /// Judges one event: `expected` and `observed` count from the same origin; `timers` lead from
    /// the anchor (the event that armed the last of them) to the event.
    public func judge(_ what: String, expected: Double, observed: Double?, timers: [Double],
                      resolutionSeconds: Double = 0) -> TimingJudgement {
        let window = window(timers: timers, resolutionSeconds: resolutionSeconds)
        let gap = timers.reduce(0, +)
        guard let observed else {
            return TimingJudgement(what: what, expected: expected, observed: nil, window: window, gapSeconds: gap,
                                   failure: "expected \(what) at +\(Self.format(expected)) s but it never happened")
        }
        let passed = observed >= expected - window.early - 1e-9 && observed <= expected + window.late + 1e-9
        let failure = passed ? nil
            : "expected \(what) at +\(Self.format(expected)) s but it happened at +\(Self.format(observed)) s"
              + " (\(observed < expected ? "early" : "late") by \(Self.format(abs(observed - expected))) s); tolerance \(window)"
        return TimingJudgement(what: what, expected: expected, observed: observed, window: window, gapSeconds: gap, failure: failure)
    }

    /// The same judged from the event that armed the timer: due `timer` after `anchor` (nil when
    /// the arming event was not seen, which fails the check).
    public func judge(_ what: String, after anchor: Double?, timer: Double, observed: Double?,
                      resolutionSeconds: Double = 0) -> TimingJudgement {
        guard let anchor else {
            return TimingJudgement(what: what, expected: timer, observed: observed,
                                   window: window(timers: [timer], resolutionSeconds: resolutionSeconds), gapSeconds: timer,
                                   failure: "\(what): the transmission that arms its \(Self.format(timer)) s timer was not seen")
        }
        return judge(what, expected: anchor + timer, observed: observed, timers: [timer], resolutionSeconds: resolutionSeconds)
    }

    /// nil when `observed` is within the window, else packetdrill's sentence.
    public func check(_ what: String, expected: Double, observed: Double, timers: [Double]) -> String? {
        judge(what, expected: expected, observed: observed, timers: timers).failure
    }

    public var description: String {
        "−\(Self.format(tickSeconds)) s, +(timer-wheel slot + \(Self.format(tickSeconds)) s + \(Self.format(marginSeconds)) s)"
    }

    /// "1.234" (seconds with millisecond precision).
    public static func format(_ seconds: Double) -> String {
        let thousandths = Int((seconds * 1000).rounded())
        let fraction = abs(thousandths % 1000)
        let padded = String(repeating: "0", count: 3 - String(fraction).count) + String(fraction)
        return "\(thousandths < 0 && thousandths > -1000 ? "-" : "")\(thousandths / 1000).\(padded)"
    }
}

/// How early and how late an event may be.
public struct TimingWindow: Sendable, Hashable, CustomStringConvertible {
    public var early: Double
    public var late: Double

    public init(early: Double, late: Double) {
        self.early = early
        self.late = late
    }

    /// "−0.004/+0.046 s".
    public var description: String { "−\(TimingTolerance.format(early))/+\(TimingTolerance.format(late)) s" }
}

/// The judge's verdict on one event.
public struct TimingJudgement: Sendable, Hashable {
    public var what: String
    public var expected: Double
    public var observed: Double?
    public var window: TimingWindow
    /// The length of the timers from the anchor to the event: what the window is a fraction of.
    public var gapSeconds: Double
    /// packetdrill's sentence when the event was out of its window or never happened.
    public var failure: String?

    public var passed: Bool { failure == nil }
}

/// The kernel's timer tick and timer wheel.
public enum KernelClock {
    /// 4 ms: this project's kernels run HZ=250. (A distribution kernel with HZ=1000 only makes
    /// tolerances a little looser than they need to be.)
    public static let tickSeconds = 0.004

    /// How late a timer of this length may fire: its wheel slot. Since Linux 4.8 the timer wheel
    /// does not cascade: a timer lands in the level whose range holds its timeout and expires at
    /// that level's granularity, 8^level jiffies (kernel/time/timer.c: LVL_CLK_SHIFT 3, 64 buckets
    /// a level, calc_wheel_index: level n holds timeouts below LVL_START(n + 1) = 63 << 3n
    /// jiffies). At HZ=250: under 63 jiffies (252 ms) within a tick, under 504 (2.016 s) within
    /// 32 ms, under 4032 (16.1 s) within 256 ms, under 32256 (129 s) within 2.048 s.
    public static func wheelGranularity(forTimeout seconds: Double, tickSeconds: Double = tickSeconds) -> Double {
        Double(1 << (3 * wheelLevel(forTimeout: seconds, tickSeconds: tickSeconds))) * tickSeconds
    }

    /// The timer-wheel level a timer of this length is queued on.
    public static func wheelLevel(forTimeout seconds: Double, tickSeconds: Double = tickSeconds) -> Int {
        // msecs_to_jiffies rounds up; the epsilon keeps 1.0 s from becoming 251 jiffies.
        let jiffies = Int((seconds / tickSeconds - 1e-6).rounded(.up))
        var level = 0
        // LVL_DEPTH is 8 (9 at HZ > 100 with 64-bit longs); the last level takes the rest.
        while level < 8, jiffies >= 63 << (3 * level) { level += 1 }
        return level
    }
}

extension TimingTolerance {
    /// A retransmission schedule judged packetdrill-style: retransmission n is due one timeout
    /// (`schedule.timeouts[n - 1]`) after transmission n − 1 as it was observed, never from the
    /// first. `transmissions`: the observed offsets of the first transmission and the ones after
    /// it (one origin). One judgement per retransmission of the schedule (the first `limit`);
    /// one that was not seen fails as never happened.
    public func judgeSchedule(_ what: String, transmissions: [Double], schedule: RetransmissionSchedule,
                              limit: Int? = nil) -> [TimingJudgement] {
        schedule.retransmissions.prefix(limit ?? .max).indices.map { index in
            let previous = index == 0 ? "the first" : "retransmission \(index)"
            return judge("\(what) retransmission \(index + 1) (\(Self.format(schedule.timeouts[index])) s after \(previous))",
                         after: index < transmissions.count ? transmissions[index] : nil, timer: schedule.timeouts[index],
                         observed: index + 1 < transmissions.count ? transmissions[index + 1] : nil)
        }
    }
}
