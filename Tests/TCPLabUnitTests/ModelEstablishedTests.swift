import TCPLab
import XCTest

/// The established-connection and close-timer rules against schedules computed by hand.
final class ModelEstablishedTests: XCTestCase {
    func testRTOIsTheFloorPlusRTTRoundedUpToATick() {
        // 200 ms floor + 60 µs srtt = 50.015 ticks of 4 ms → 51 ticks = 204 ms (TCP_INFO showed 204000 µs).
        XCTAssertEqual(EstablishedRetransmissionModel.rto(rtt: 0.00006, rtoMin: 0.2), 0.204, accuracy: 1e-9)
        XCTAssertEqual(EstablishedRetransmissionModel.rto(rtt: 0.01, rtoMin: 0.2, tickSeconds: 0.001), 0.21, accuracy: 1e-9)
    }

    func testOrphanRetriesZeroMeansEightWhileAlive() {
        XCTAssertEqual(EstablishedRetransmissionModel.orphanRetries(sysctl: 0), 8)
        XCTAssertEqual(EstablishedRetransmissionModel.orphanRetries(sysctl: 0, alive: false), 0)
        XCTAssertEqual(EstablishedRetransmissionModel.orphanRetries(sysctl: 2), 2)
    }

    func testOrphanedFinWithTailLossProbe() {
        // rto 0.204; tcp_orphan_retries=2 → limit (2^3−1)×0.2 = 1.4 s counted from the first RTO retransmission.
        // Probe at 0.204; RTOs at 0.408 (stamp), 0.816 (0.408 since), 1.632 (1.224 since); at 3.264 (2.856 since) give up.
        let parameters = KernelParameters(orphanRetries: 2, rtoMaxMilliseconds: 120_000)
        let schedule = EstablishedRetransmissionModel.orphanedFin(rto: 0.204, parameters: parameters)
        XCTAssertEqual(schedule.retransmissions.count, 4)
        for (model, hand) in zip(schedule.retransmissions, [0.204, 0.408, 0.816, 1.632]) { XCTAssertEqual(model, hand, accuracy: 1e-9) }
        XCTAssertEqual(schedule.giveUp, 3.264, accuracy: 1e-9)
        XCTAssertEqual(schedule.timeouts, [0.204, 0.204, 0.408, 0.816, 1.632])
    }

    func testDataWithoutLossProbeAndRetries2() {
        // rto 0.2 exactly, tcp_retries2=3 → limit 3.0 s from the first retransmission at 0.2:
        // 0.6 (0.4), 1.4 (1.2), 3.0 (2.8 < 3.0 → retransmit), 6.2 (6.0 since) give up.
        let parameters = KernelParameters(retries2: 3)
        let schedule = EstablishedRetransmissionModel.schedule(rto: 0.2, boundary: parameters.retries2, rtoMax: parameters.rtoMax, lossProbe: false)
        for (model, hand) in zip(schedule.retransmissions, [0.2, 0.6, 1.4, 3.0]) { XCTAssertEqual(model, hand, accuracy: 1e-9) }
        XCTAssertEqual(schedule.retransmissions.count, 4)
        XCTAssertEqual(schedule.giveUp, 6.2, accuracy: 1e-9)
    }

    func testDefaultRetries2IsAboutFifteenMinutes() {
        // tcp_retries2=15 with TCP_RTO_MIN 0.2 and rto_max 120: threshold ilog2(600)=9 → (2^10−1)×0.2 + 6×120 = 924.6 s.
        XCTAssertEqual(RetransmissionModel.modelTimeout(boundary: 15, initialRTO: 0.2, maximumRTO: 120), 924.6, accuracy: 1e-9)
    }

    func testUserTimeoutClampsTheLastTimer() {
        // TCP_USER_TIMEOUT 1 s, rto 0.2, no probe: 0.2 (stamp), 0.6, then clamped to 1.2 (stamp + 1 s): give up.
        let schedule = EstablishedRetransmissionModel.schedule(rto: 0.2, boundary: 15, rtoMax: 120, userTimeout: 1.0, lossProbe: false)
        for (model, hand) in zip(schedule.retransmissions, [0.2, 0.6]) { XCTAssertEqual(model, hand, accuracy: 1e-9) }
        XCTAssertEqual(schedule.giveUp, 1.2, accuracy: 1e-9)
    }

    func testRTOMaxCapsTheBackoff() {
        let schedule = EstablishedRetransmissionModel.schedule(rto: 0.4, boundary: 3, rtoMax: 1.0, lossProbe: false)
        // Timers 0.4, 0.8, 1.0, 1.0 …; limit with rto_max 1 s: threshold ilog2(5)=2 → 1.4 + 1×1.0 = 2.4 s from 0.4.
        XCTAssertEqual(schedule.timeouts, [0.4, 0.8, 1.0, 1.0])
        XCTAssertEqual(schedule.giveUp, 3.2, accuracy: 1e-9)
    }

    func testListenerRequestTimerRestartsOnEachRepeatedSyn() {
        // Measured in synack-lost: client SYNs at 1..5 s, tcp_synack_retries=2. Timer at 1 (n→1), SYNs re-arm
        // to SYN+2 s each, so the timer fires at 7 (n→2, +4 s) and drops the request at 11 s.
        let schedule = RetransmissionModel.synAck(synackRetries: 2, duplicateSyns: [1, 2, 3, 4, 5])
        XCTAssertEqual(schedule.answers, [1, 2, 3, 4, 5])
        XCTAssertEqual(schedule.timerRetransmissions, [1, 7])
        XCTAssertEqual(schedule.giveUp, 11)
        // Without repeated SYNs it is the plain schedule: 1, 3, dropped at 7.
        let plain = RetransmissionModel.synAck(synackRetries: 2, duplicateSyns: [])
        XCTAssertEqual(plain.timerRetransmissions, [1, 3])
        XCTAssertEqual(plain.giveUp, 7)
    }

    func testASynArrivingAsTheRequestExpiresOpensANewRequest() {
        // Measured with this kernel's defaults (syn_retries=6 + 4 linear → SYNs at 1,2,3,4,5,7,11,19,35,67 s;
        // synack_retries=5): the first request expires at 67 s in the same tick as the last SYN, which then
        // finds no request and opens a new one (new ISN) that lives 1+2+4+8+16+32 = 63 s: 21 SYN-ACKs in all.
        let schedule = RetransmissionModel.synAck(synackRetries: 5, duplicateSyns: [1, 2, 3, 4, 5, 7, 11, 19, 35, 67], maximumRTO: 120)
        XCTAssertEqual(schedule.requests, [0, 67])
        XCTAssertEqual(schedule.answers, [1, 2, 3, 4, 5, 7, 11, 19, 35])
        XCTAssertEqual(schedule.timerRetransmissions, [1, 7, 11, 19, 35, 68, 70, 74, 82, 98])
        XCTAssertEqual(schedule.giveUp, 130)
        XCTAssertEqual(schedule.synAckCount, 21)
    }

    func testCloseTimers() {
        XCTAssertEqual(CloseTimersModel.timeWaitLength, 60)
        XCTAssertEqual(CloseTimersModel.finWait2Length(finTimeout: 2), 2)
        XCTAssertEqual(CloseTimersModel.finWait2Length(finTimeout: 60, linger2: 5), 5)
        XCTAssertEqual(CloseTimersModel.twReuseDelay(milliseconds: nil), 1)
    }

    func testParametersReadFromSysctlText() {
        let values = ["net.ipv4.tcp_syn_retries": "2", "net.ipv4.tcp_rto_max_ms": "5000", "net.ipv4.tcp_synack_retries": "3"]
        let parameters = KernelParameters(reading: { values[$0] })
        XCTAssertEqual(parameters.synRetries, 2)
        XCTAssertNil(parameters.synLinearTimeouts, "absent sysctl: an older kernel")
        XCTAssertEqual(parameters.rtoMax, 5)
        XCTAssertEqual(parameters.synAck.giveUp, 12, "1 + 2 + 4, then the 8 s timer capped at tcp_rto_max_ms = 5 s")
        XCTAssertEqual(parameters.syn.retransmissions, [1, 3])
        XCTAssertEqual(parameters.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts"]), "tcp_syn_retries=2 tcp_syn_linear_timeouts=absent")
    }
}
