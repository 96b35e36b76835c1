import TCPLab
import XCTest

/// The model against schedules computed by hand from the kernel's rules.
final class RetransmissionModelTests: XCTestCase {
    func testClassicExponentialSynBackoff() {
        // tcp_syn_retries=6 without linear timeouts: 1+2+4+8+16+32 = 63 s of retries, give up at 127 s.
        let schedule = RetransmissionModel.syn(synRetries: 6, linearTimeouts: 0)
        XCTAssertEqual(schedule.retransmissions, [1, 3, 7, 15, 31, 63])
        XCTAssertEqual(schedule.giveUp, 127)
    }

    func testTheSeedNotesFiveRetries() {
        // The notes' 1+2+4+8+16+32 = 63 s: five retries give up at 63 s.
        let schedule = RetransmissionModel.syn(synRetries: 5, linearTimeouts: 0)
        XCTAssertEqual(schedule.retransmissions, [1, 3, 7, 15, 31])
        XCTAssertEqual(schedule.giveUp, 63)
    }

    func testLinearTimeoutsThenTheTimeLimit() {
        // tcp_syn_retries=2, tcp_syn_linear_timeouts=4: timeouts 1,1,1,1,1,2; the 7 s limit of two
        // exponential retries (1+2+4) ends it before the sixth retransmission.
        let schedule = RetransmissionModel.syn(synRetries: 2, linearTimeouts: 4)
        XCTAssertEqual(schedule.retransmissions, [1, 2, 3, 4, 5])
        XCTAssertEqual(schedule.giveUp, 7)
        XCTAssertEqual(schedule.transmissions, 6)
    }

    func testThisKernelsDefaults() {
        // 6 retries + 4 linear: 1,2,3,4,5 then 7,11,19,35,67; the tenth retransmission is the last
        // (6+4), and the next timer at 131 s gives up (past the 127 s limit as well).
        let schedule = RetransmissionModel.syn(synRetries: 6, linearTimeouts: 4)
        XCTAssertEqual(schedule.retransmissions, [1, 2, 3, 4, 5, 7, 11, 19, 35, 67])
        XCTAssertEqual(schedule.giveUp, 131)
    }

    func testMaximumRTOCapsTheBackoff() {
        let schedule = RetransmissionModel.syn(synRetries: 4, linearTimeouts: 0, maximumRTO: 3)
        XCTAssertEqual(schedule.retransmissions, [1, 3, 6, 9])
        // tcp_model_timeout with a 3 s cap: threshold ilog2(3) = 1 → (2^2-1) + (4-1)×3 = 12.
        XCTAssertEqual(schedule.giveUp, 12)
    }

    func testSynAckBackoff() {
        let schedule = RetransmissionModel.synAck(synackRetries: 2)
        XCTAssertEqual(schedule.retransmissions, [1, 3])
        XCTAssertEqual(schedule.giveUp, 7)
        XCTAssertEqual(RetransmissionModel.synAck(synackRetries: 5).giveUp, 63)
    }

    func testKeepalive() {
        XCTAssertEqual(KeepaliveModel.probes(idle: 1, interval: 1, count: 3), [1, 2, 3])
        XCTAssertEqual(KeepaliveModel.death(idle: 1, interval: 1, count: 3), 4)
        XCTAssertEqual(KeepaliveModel.death(idle: 7200, interval: 75, count: 9), 7875)
    }

    func testTimerWheelGranularityAtHZ250() {
        XCTAssertEqual(KernelClock.wheelGranularity(forTimeout: 0.2), 0.004)    // 50 jiffies: level 0
        XCTAssertEqual(KernelClock.wheelGranularity(forTimeout: 1.0), 0.032)    // 250 jiffies: level 1
        XCTAssertEqual(KernelClock.wheelGranularity(forTimeout: 2.0), 0.032)    // 500 jiffies: still level 1 (below 504)
        XCTAssertEqual(KernelClock.wheelGranularity(forTimeout: 2.016), 0.256)  // 504 jiffies: LVL_START(2), level 2
        XCTAssertEqual(KernelClock.wheelGranularity(forTimeout: 4.0), 0.256)    // 1000 jiffies: level 2
        XCTAssertEqual(KernelClock.wheelGranularity(forTimeout: 30.0), 2.048)   // 7500 jiffies: level 3
    }

    func testChainedTimersAddTheirLateness() {
        let tolerance = TimingTolerance.forTick(0.004)
        let schedule = RetransmissionModel.syn(synRetries: 2, linearTimeouts: 4)
        XCTAssertEqual(schedule.timeouts, [1, 1, 1, 1, 1, 2])
        // Six timers of 1 or 2 s (level 1: up to 32 ms late each, plus a tick), plus the margin once.
        XCTAssertEqual(tolerance.allowance(timers: schedule.timeouts), 6 * 0.036 + 0.010, accuracy: 1e-9)
        XCTAssertNil(tolerance.check("ETIMEDOUT", expected: 7, observed: 7.115, timers: schedule.timeouts))
        XCTAssertNotNil(tolerance.check("ETIMEDOUT", expected: 7, observed: 7.7, timers: schedule.timeouts))
    }
}
