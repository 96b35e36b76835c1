import TCPLab
import XCTest

/// RACK's reordering window and when the hole is retransmitted, against values computed by hand.
final class RACKLossModelTests: XCTestCase {
    func testReorderingWindowIsAQuarterOfMinRTTUntilThreeSegmentsAreSACKed() {
        // min_rtt 20 µs, srtt 40 µs, one segment SACKed: 5 µs.
        XCTAssertEqual(RACKLossModel.reorderingWindow(minRTT: 20e-6, srtt: 40e-6, sackedOut: 1), 5e-6, accuracy: 1e-12)
        // Capped at srtt (steps raised by DSACKs).
        XCTAssertEqual(RACKLossModel.reorderingWindow(minRTT: 20e-6, srtt: 8e-6, sackedOut: 1, steps: 4), 8e-6, accuracy: 1e-12)
        // The classic threshold: three SACKed segments, or already in recovery → no wait at all.
        XCTAssertEqual(RACKLossModel.reorderingWindow(minRTT: 20e-6, srtt: 40e-6, sackedOut: 3), 0)
        XCTAssertEqual(RACKLossModel.reorderingWindow(minRTT: 20e-6, srtt: 40e-6, sackedOut: 1, inRecovery: true), 0)
    }

    func testHoleSentEarlierThanTheWindowIsRetransmittedOnTheFirstSACK() {
        // Hole sent 2 ms before the SACKed segment, window 5 µs → lost at once.
        XCTAssertEqual(RACKLossModel.retransmitDelay(sentBefore: 0.002, reorderingWindow: 5e-6), 0)
    }

    func testHoleSentInTheSameBurstWaitsForTheREOTimer() {
        // Sent 1 µs apart, window 5 µs: 4 µs remain → 1 jiffy + TCP_TIMEOUT_MIN (2) = 3 jiffies = 12 ms at HZ=250.
        XCTAssertEqual(RACKLossModel.retransmitDelay(sentBefore: 1e-6, reorderingWindow: 5e-6), 0.012, accuracy: 1e-9)
        // 5 ms remaining = 1.25 jiffies → 2 + 2 = 4 jiffies.
        XCTAssertEqual(RACKLossModel.retransmitDelay(sentBefore: 0, reorderingWindow: 0.005), 0.016, accuracy: 1e-9)
    }
}
