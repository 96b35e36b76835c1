import TCPLabModel
import XCTest

/// The request timer replayed on the segments synack-lost really saw with `--profile defaults`
/// (6.18, tcp_syn_retries=6, tcp_syn_linear_timeouts=4, tcp_synack_retries=5; offsets from the first SYN).
final class ListenerSynAckReplayTests: XCTestCase {
    func testDefaultsRunIsJudgedFromEachArmingSynAck() {
        let first: UInt32 = 100, second: UInt32 = 1_089_167_675
        func syn(_ t: Double) -> ListenerSynAckReplay.Segment { .syn(at: t) }
        func synAck(_ t: Double, _ isn: UInt32) -> ListenerSynAckReplay.Segment { .synAck(at: t, sequence: isn) }
        let segments: [ListenerSynAckReplay.Segment] = [
            syn(0), synAck(0.000020, first),
            synAck(1.035308, first), syn(1.035318), synAck(1.035343, first),  // timer 1, then the SYN's answer
            syn(2.053838), synAck(2.053860, first), syn(3.082616), synAck(3.082653, first),
            syn(4.105881), synAck(4.105912, first), syn(5.125964), synAck(5.125996, first),
            synAck(7.141882, first), syn(7.141889), synAck(7.141901, first),
            synAck(11.333967, first), syn(11.333974), synAck(11.333992, first),
            synAck(19.529952, first), syn(19.529959), synAck(19.529977, first),
            synAck(35.657938, first), syn(35.657947), synAck(35.657968, first),
            // The first request expired in the same level-3 bucket as the client's 10th SYN: a new request.
            syn(69.706729), synAck(69.706757, second),
            synAck(70.731669, second), synAck(72.747769, second), synAck(76.869876, second),
            synAck(85.061813, second), synAck(101.194242, second),
        ]
        let replay = ListenerSynAckReplay.replay(segments)
        XCTAssertEqual(replay.timerSynAcksPerRequest, [5, 5])
        XCTAssertEqual(replay.answers, 9)
        // Request 1's timer restarts at each answer with 1 s << num_timeout: 1, 2, 4, 8, 16 s.
        XCTAssertEqual(replay.timerSynAcks.map(\.timer), [1, 2, 4, 8, 16, 1, 2, 4, 8, 16])
        XCTAssertEqual(replay.timerSynAcks[1].anchor, 5.125996, "timer 2 was re-armed by the answer to the SYN at +5.126 s")
        XCTAssertEqual(replay.timerSynAcks[5].anchor, 69.706757, "request 2's first timer counts from its own first SYN-ACK")
        XCTAssertEqual(replay.giveUp?.timer, 32)
        XCTAssertEqual(replay.giveUp?.anchor, 101.194242)
        // Every timer SYN-ACK lies in the one judge's window from its anchor; the drop at +135.257 s
        // is 2.063 s after 101.194 + 32 s: a 32 s timer on level 3 (2.048 s slot) plus the 5 ms state poll.
        let judge = TimingTolerance.forTick()
        for event in replay.timerSynAcks {
            XCTAssertTrue(judge.judge("timer", after: event.anchor, timer: event.timer, observed: event.observed).passed, "\(event)")
        }
        let giveUp = try! XCTUnwrap(replay.giveUp)
        XCTAssertTrue(judge.judge("drop", expected: giveUp.anchor + giveUp.timer, observed: 135.256688, timers: [giveUp.timer],
                                  resolutionSeconds: 0.005).passed)
    }
}
