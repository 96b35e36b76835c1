import TCPLab
import XCTest

/// The schedules the server-dead-retransmit lab expects, computed by hand from the kernel's rules
/// (tail-loss probe, RTO doubling capped at tcp_rto_max, give-up by tcp_model_timeout or
/// TCP_USER_TIMEOUT counted from the first RTO retransmission).
final class ModelServerDeadTests: XCTestCase {
    func testFastProfileRetries2() {
        // rto 0.204, tcp_retries2=3, tcp_rto_max_ms=5000 → limit (2^4−1)×0.2 = 3.0 s from the stamp at 0.408.
        // Probe 0.204; RTOs 0.408 (stamp), 0.816 (0.408 since), 1.632 (1.224), 3.264 (2.856 < 3.0);
        // the next timer, 3.264 s long, fires at 6.528 (6.12 since): ETIMEDOUT.
        let parameters = KernelParameters(retries2: 3, rtoMaxMilliseconds: 5000)
        let schedule = EstablishedRetransmissionModel.data(rto: 0.204, parameters: parameters)
        XCTAssertEqual(schedule.retransmissions.count, 5)
        for (model, hand) in zip(schedule.retransmissions, [0.204, 0.408, 0.816, 1.632, 3.264]) { XCTAssertEqual(model, hand, accuracy: 1e-9) }
        XCTAssertEqual(schedule.giveUp, 6.528, accuracy: 1e-9)
        XCTAssertEqual(schedule.timeouts.count, 6)
        for (model, hand) in zip(schedule.timeouts, [0.204, 0.204, 0.408, 0.816, 1.632, 3.264]) { XCTAssertEqual(model, hand, accuracy: 1e-9) }
    }

    func testUserTimeoutReplacesRetries2() {
        // TCP_USER_TIMEOUT 1.5 s, rto 0.204: probe 0.204, RTOs 0.408 (stamp), 0.816, 1.632 (1.224 since);
        // the next timer is clamped to stamp + 1.5 − 1.632 = 0.276 s: give up at 1.908.
        let parameters = KernelParameters(retries2: 3, rtoMaxMilliseconds: 5000)
        let schedule = EstablishedRetransmissionModel.data(rto: 0.204, parameters: parameters, userTimeout: 1.5)
        for (model, hand) in zip(schedule.retransmissions, [0.204, 0.408, 0.816, 1.632]) { XCTAssertEqual(model, hand, accuracy: 1e-9) }
        XCTAssertEqual(schedule.retransmissions.count, 4)
        XCTAssertEqual(schedule.giveUp, 1.908, accuracy: 1e-9)
        XCTAssertEqual(schedule.timeouts.last ?? 0, 0.276, accuracy: 1e-9)
    }

    func testKernelDefaultsTakeAboutFifteenAndAHalfMinutes() {
        // tcp_retries2=15, rto_max 120 s, rto 0.204: limit 924.6 s from the stamp at 0.408. RTOs double
        // 0.204 … 104.448, then 120 s each: retransmissions at 0.204 (probe), 0.408, 0.816, …, 104.448,
        // 208.896, 328.896, …, 808.896 (808.488 since the stamp); the timer at 928.896 (928.488 ≥ 924.6) gives up.
        let schedule = EstablishedRetransmissionModel.data(rto: 0.204, parameters: KernelParameters())
        var hand = [0.204]
        var at = 0.204
        for exponent in 0..<9 { at += 0.204 * Double(1 << exponent); hand.append(at) }
        XCTAssertEqual(at, 104.448, accuracy: 1e-9)
        at += 104.448
        hand.append(at)  // 208.896: the last doubled timer
        for _ in 0..<5 { at += 120; hand.append(at) }
        XCTAssertEqual(schedule.retransmissions.count, 16)  // the probe and tcp_retries2 = 15 RTO retransmissions
        for (model, expected) in zip(schedule.retransmissions, hand) { XCTAssertEqual(model, expected, accuracy: 1e-6) }
        XCTAssertEqual(schedule.giveUp, 928.896, accuracy: 1e-6)
    }

    func testAnRTOOfExactlyTheFloorLandsJustUnderTheLimit() {
        // rto 0.2: the 15th RTO retransmission comes 924.4 s after the stamp, 0.2 s under the 924.6 s
        // limit, so one more retransmission goes out and the client gives up at 1044.8 s: the count of
        // retransmissions is not tcp_retries2, the time is what the kernel checks.
        let schedule = EstablishedRetransmissionModel.data(rto: 0.2, parameters: KernelParameters())
        XCTAssertEqual(schedule.retransmissions.count, 17)
        XCTAssertEqual(schedule.retransmissions.last ?? 0, 924.8, accuracy: 1e-6)
        XCTAssertEqual(schedule.giveUp, 1044.8, accuracy: 1e-6)
    }
}

/// Due times anchored on the observed transmissions (each timer counts from the event that armed it).
final class ModelChainedDueTimesTests: XCTestCase {
    func testEachRetransmissionIsDueATimerAfterTheObservedOneBefore() {
        // Fast profile, rto 0.204: timers 0.204, 0.204, 0.408, 0.816, 1.632, 3.264. Observed (a run of
        // this lab): 0, 0.2056, 0.4124, 0.8249, 1.6575, 3.3204.
        let schedule = EstablishedRetransmissionModel.data(rto: 0.204, parameters: KernelParameters(retries2: 3, rtoMaxMilliseconds: 5000))
        let due = EstablishedRetransmissionModel.due(schedule, transmissions: [0, 0.2056, 0.4124, 0.8249, 1.6575, 3.3204])
        let hand = [0.204, 0.2056 + 0.204, 0.4124 + 0.408, 0.8249 + 0.816, 1.6575 + 1.632]
        XCTAssertEqual(due.retransmissions.count, 5)
        for (model, expected) in zip(due.retransmissions, hand) { XCTAssertEqual(model ?? -1, expected, accuracy: 1e-9) }
        XCTAssertEqual(due.giveUp ?? -1, 3.3204 + 3.264, accuracy: 1e-9)
    }

    func testUserTimeoutIsDueFromTheFirstRTORetransmission() {
        // TCP_USER_TIMEOUT 1.5 s: retrans_stamp is the first RTO retransmission (the third transmission,
        // after the original and the probe), observed at 0.4139 → give up due at 1.9139.
        let schedule = EstablishedRetransmissionModel.data(rto: 0.204, parameters: KernelParameters(retries2: 3, rtoMaxMilliseconds: 5000), userTimeout: 1.5)
        let due = EstablishedRetransmissionModel.due(schedule, transmissions: [0, 0.2057, 0.4139, 0.8417, 1.6737], userTimeout: 1.5)
        XCTAssertEqual(due.giveUp ?? -1, 1.9139, accuracy: 1e-9)
        XCTAssertEqual(due.retransmissions[3] ?? -1, 0.8417 + 0.816, accuracy: 1e-9)
    }

    func testMissingTransmissionsLeaveLaterEventsUnknown() {
        let schedule = EstablishedRetransmissionModel.data(rto: 0.204, parameters: KernelParameters(retries2: 3, rtoMaxMilliseconds: 5000))
        let due = EstablishedRetransmissionModel.due(schedule, transmissions: [0, 0.205])
        XCTAssertEqual(due.retransmissions.compactMap { $0 }.count, 2)
        XCTAssertNil(due.retransmissions[2])
        XCTAssertNil(due.giveUp)
    }
}
