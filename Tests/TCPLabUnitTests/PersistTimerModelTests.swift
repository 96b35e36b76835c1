import TCPLab
import XCTest

/// The zero-window probe timer and the receiver's rate-limited answers, against hand-computed schedules.
final class PersistTimerModelTests: XCTestCase {
    func testBaseIsTheRTOButNeverBelowTCPRTOMin() {
        XCTAssertEqual(PersistTimerModel.base(rto: 0.208), 0.208, accuracy: 1e-9)
        // tcp_rto_min_us lowered to 5 ms gives a 8 ms RTO on loopback; the probe floor stays 200 ms.
        XCTAssertEqual(PersistTimerModel.base(rto: 0.008), 0.2, accuracy: 1e-9)
    }

    func testProbesDoubleUntilTCPRetries2CapsTheBackoff() {
        // base 0.2, tcp_retries2=3, rto_max 5 s: intervals 0.2, 0.4, 0.8, 1.6, then 1.6 again (backoff stays 3).
        // Offsets: 0.2, 0.6, 1.4, 3.0, 4.6, 6.2.
        let offsets = PersistTimerModel.probes(count: 6, base: 0.2, retries2: 3, rtoMax: 5)
        for (model, hand) in zip(offsets, [0.2, 0.6, 1.4, 3.0, 4.6, 6.2]) { XCTAssertEqual(model, hand, accuracy: 1e-9) }
        XCTAssertEqual(PersistTimerModel.timers(count: 6, base: 0.2, retries2: 3, rtoMax: 5), [0.2, 0.4, 0.8, 1.6, 1.6, 1.6])
    }

    func testProbeIntervalIsCappedByRTOMax() {
        // base 0.204, tcp_retries2=15, rto_max 1 s: 0.204, 0.408, 0.816, then 1.0 for good.
        XCTAssertEqual(PersistTimerModel.timers(count: 5, base: 0.204, retries2: 15, rtoMax: 1), [0.204, 0.408, 0.816, 1.0, 1.0])
        // Kernel defaults: 0.2 << 9 = 102.4 s, then 120 s.
        XCTAssertEqual(PersistTimerModel.interval(afterProbe: 9, base: 0.2, retries2: 15, rtoMax: 120), 102.4, accuracy: 1e-9)
        XCTAssertEqual(PersistTimerModel.interval(afterProbe: 10, base: 0.2, retries2: 15, rtoMax: 120), 120, accuracy: 1e-9)
    }

    func testRetries2ZeroMeansNoBackoff() {
        XCTAssertEqual(PersistTimerModel.timers(count: 3, base: 0.3, retries2: 0, rtoMax: 120), [0.3, 0.3, 0.3])
    }

    func testReceiverAnswersOneOutOfWindowSegmentPerInvalidRateLimit() {
        // Probes at 0.2, 0.6, 1.4, 3.0 (base 0.2), limit 0.5 s: 0.2 answered; 0.6 is 0.4 after → skipped;
        // 1.4 is 1.2 after 0.2 → answered; 3.0 → answered.
        let answers = PersistTimerModel.answered(probeTimes: [0.2, 0.6, 1.4, 3.0], invalidRateLimit: 0.5)
        XCTAssertEqual(answers, [true, false, true, true])
        // Two quick probes after a skipped one still count from the last answer: 0.1, 0.35 (0.25), 0.65 (0.55 after 0.1).
        XCTAssertEqual(PersistTimerModel.answered(probeTimes: [0.1, 0.35, 0.65], invalidRateLimit: 0.5), [true, false, true])
    }

    func testAnIntervalWithinATickOfTheLimitIsUndecided() {
        XCTAssertNil(PersistTimerModel.answers(at: 0.502, lastAnswer: 0, invalidRateLimit: 0.5))
        XCTAssertEqual(PersistTimerModel.answers(at: 0.51, lastAnswer: 0, invalidRateLimit: 0.5), true)
        // The undecided probe follows the observed outcome: not answered, so 0.9 counts from 0 and is answered.
        XCTAssertEqual(PersistTimerModel.answered(probeTimes: [0, 0.502, 0.9], invalidRateLimit: 0.5, observed: [true, false, true]),
                       [true, nil, true])
        // Answered, so 0.9 is only 0.398 after it: skipped.
        XCTAssertEqual(PersistTimerModel.answered(probeTimes: [0, 0.502, 0.9], invalidRateLimit: 0.5, observed: [true, true, false]),
                       [true, nil, false])
    }
}
