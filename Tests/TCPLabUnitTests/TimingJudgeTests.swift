import TCPLabModel
import XCTest

/// The one judge's rule, worked out by hand from kernel/time/timer.c at HZ=250 (4 ms ticks):
/// a tick early, the timer's wheel slot + a tick + the 10 ms margin late, from the event that armed it.
final class TimingJudgeTests: XCTestCase {
    let judge = TimingTolerance.forTick(0.004)

    func testWheelLevelsFollowLvlStart() {
        // LVL_START(n) = 63 << 3(n−1) jiffies: 63, 504, 4032, 32256.
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 0.248), 0)  // 62 jiffies
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 0.252), 1)  // 63
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 1.0), 1)    // 250: the SYN's first RTO
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 2.012), 1)  // 503
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 2.016), 2)  // 504
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 4.0), 2)    // 1000
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 16.128), 3) // 4032
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 60), 3)     // TCP_TIMEWAIT_LEN
        XCTAssertEqual(KernelClock.wheelLevel(forTimeout: 120), 3)    // 30000 < 32256: TCP_RTO_MAX
        XCTAssertEqual(KernelClock.wheelGranularity(forTimeout: 120), 2.048)
        XCTAssertEqual(KernelClock.wheelGranularity(forTimeout: 130), 16.384)  // 32500 jiffies: level 4
    }

    func testWindowIsATickEarlyAndSlotTickMarginLate() {
        // 1 s: level 1, 32 ms slot.
        XCTAssertEqual(judge.window(timers: [1]).early, 0.004, accuracy: 1e-12)
        XCTAssertEqual(judge.window(timers: [1]).late, 0.032 + 0.004 + 0.010, accuracy: 1e-12)
        // 4 s: level 2, 256 ms slot.
        XCTAssertEqual(judge.window(timers: [4]).late, 0.256 + 0.004 + 0.010, accuracy: 1e-12)
        // 200 ms (the loopback RTO floor): level 0, one tick.
        XCTAssertEqual(judge.window(timers: [0.2]).late, 0.004 + 0.004 + 0.010, accuracy: 1e-12)
        // No timer (an answer sent at once): a tick either side, plus the margin late.
        XCTAssertEqual(judge.window(timers: []), TimingWindow(early: 0.004, late: 0.014))
        // A coarse observation widens both sides.
        XCTAssertEqual(judge.window(timers: [], resolutionSeconds: 0.02).early, 0.024, accuracy: 1e-12)
    }

    func testTimersNeverFireEarly() {
        // A 1 s timer armed at +3.000 s: +3.995 is more than a tick early; +4.045 within the 46 ms late side; +4.047 not.
        XCTAssertFalse(judge.judge("SYN retransmission 4", after: 3.0, timer: 1, observed: 3.995).passed)
        XCTAssertTrue(judge.judge("SYN retransmission 4", after: 3.0, timer: 1, observed: 3.997).passed)
        XCTAssertTrue(judge.judge("SYN retransmission 4", after: 3.0, timer: 1, observed: 4.045).passed)
        XCTAssertFalse(judge.judge("SYN retransmission 4", after: 3.0, timer: 1, observed: 4.047).passed)
    }

    func testGapRelativeJudgingFollowsTheObservedAnchor() {
        // The previous transmission was 30 ms late: the next is due a timer after it, not after the model's time.
        let judgement = judge.judge("SYN retransmission 2", after: 1.030, timer: 1, observed: 2.040)
        XCTAssertTrue(judgement.passed, judgement.failure ?? "")
        XCTAssertEqual(judgement.expected, 2.030, accuracy: 1e-12)
        XCTAssertEqual(judgement.gapSeconds, 1)
        // Cumulatively from the start it would need 2 × 36 ms + 10 ms of slack.
        XCTAssertEqual(judge.allowance(timers: [1, 1]), 0.082, accuracy: 1e-12)
    }

    func testFailureSentenceSaysWhichWayAndTheWindow() {
        XCTAssertEqual(
            judge.judge("SYN retransmission", expected: 1.0, observed: 1.412, timers: [1]).failure,
            "expected SYN retransmission at +1.000 s but it happened at +1.412 s (late by 0.412 s); tolerance −0.004/+0.046 s"
        )
        XCTAssertEqual(
            judge.judge("server SYN-ACK from the request timer 7", expected: 70, observed: 69.035, timers: [4]).failure,
            "expected server SYN-ACK from the request timer 7 at +70.000 s but it happened at +69.035 s (early by 0.965 s); tolerance −0.004/+0.270 s"
        )
        XCTAssertEqual(judge.judge("the give-up", expected: 7, observed: nil, timers: [2]).failure,
                       "expected the give-up at +7.000 s but it never happened")
        XCTAssertNotNil(judge.judge("retransmission 2", after: nil, timer: 1, observed: 2).failure, "no anchor: the check cannot pass")
    }
}
