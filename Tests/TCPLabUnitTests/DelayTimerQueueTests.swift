@testable import TCPLabProxy
import TCPLabFault
import XCTest

/// The timer heap behind --delay: deadline order, first-in first-out among equal deadlines (so
/// segments delayed by the same amount keep their order), nothing popped early.
final class DelayTimerQueueTests: XCTestCase {
    func testPopsInDeadlineOrderWhateverTheSchedulingOrder() {
        var queue = TimerQueue<String>()
        queue.schedule("c", at: 300)
        queue.schedule("a", at: 100)
        queue.schedule("b", at: 200)
        XCTAssertEqual(queue.nextDeadline, 100)
        XCTAssertEqual(queue.popDue(now: 1_000).map(\.payload), ["a", "b", "c"])
        XCTAssertTrue(queue.isEmpty)
        XCTAssertNil(queue.nextDeadline)
    }

    func testEqualDeadlinesKeepTheirArrivalOrder() {
        var queue = TimerQueue<Int>()
        for segment in 0..<200 { queue.schedule(segment, at: 5_000) }
        queue.schedule(-1, at: 4_999)
        XCTAssertEqual(queue.popDue(now: 5_000).map(\.payload), [-1] + Array(0..<200))
    }

    func testNothingIsPoppedBeforeItsDeadline() {
        var queue = TimerQueue<String>()
        queue.schedule("late", at: 2_000)
        queue.schedule("early", at: 1_000)
        XCTAssertEqual(queue.popDue(now: 999).count, 0)
        let due = queue.popDue(now: 1_500)
        XCTAssertEqual(due.map(\.payload), ["early"])
        XCTAssertEqual(due.map(\.deadline), [1_000])
        XCTAssertEqual(queue.nextDeadline, 2_000)
        XCTAssertEqual(queue.count, 1)
    }

    func testInterleavedSchedulingMatchesASortedReference() {
        var queue = TimerQueue<Int>()
        var reference: [(deadline: UInt64, order: Int)] = []
        var generator = JitterSource(seed: 42)
        var popped: [Int] = []
        var expected: [Int] = []
        var now: UInt64 = 0
        for order in 0..<2_000 {
            let deadline = now + generator.next() % 1_000
            queue.schedule(order, at: deadline)
            reference.append((deadline, order))
            if order % 7 == 0 {
                now += 100
                popped += queue.popDue(now: now).map(\.payload)
                let due = reference.filter { $0.deadline <= now }.sorted { ($0.deadline, $0.order) < ($1.deadline, $1.order) }
                expected += due.map(\.order)
                reference.removeAll { $0.deadline <= now }
            }
        }
        popped += queue.popAll()
        expected += reference.sorted { ($0.deadline, $0.order) < ($1.deadline, $1.order) }.map(\.order)
        XCTAssertEqual(popped, expected)
    }

    func testJitterStaysWithinItsBoundsAndRepeatsWithTheSeed() {
        var first = JitterSource(seed: 7)
        var second = JitterSource(seed: 7)
        var seen = Set<UInt64>()
        for _ in 0..<1_000 {
            let wait = first.wait(.milliseconds(100), jitter: .milliseconds(5))
            XCTAssertEqual(wait, second.wait(.milliseconds(100), jitter: .milliseconds(5)))
            XCTAssertTrue((95_000_000...105_000_000).contains(wait), "\(wait)")
            seen.insert(wait / 1_000_000)
        }
        XCTAssertGreaterThan(seen.count, 5, "the waits spread over the jitter range")
        // Without jitter no number is drawn; jitter larger than the delay never goes below zero.
        XCTAssertEqual(first.wait(.milliseconds(300), jitter: .zero), 300_000_000)
        for _ in 0..<1_000 { XCTAssertLessThanOrEqual(first.wait(.milliseconds(1), jitter: .milliseconds(10)), 11_000_000) }
    }

    func testACopyIsRecognisedDespiteANewIPv4IdAndChecksum() throws {
        // IPv4 SYN 127.0.0.1:40000 > 127.0.0.1:7000, id 0x1234, checksum 0xabcd.
        var packet: [UInt8] = [0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0xab, 0xcd, 127, 0, 0, 1, 127, 0, 0, 1]
        packet += [0x9c, 0x40, 0x1b, 0x58, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0x12, 0x34, 0, 0]
        var resent = packet
        resent[4] = 0x56; resent[5] = 0x78; resent[10] = 0; resent[11] = 0
        XCTAssertEqual(try XCTUnwrap(SegmentFingerprint(packet: packet)), SegmentFingerprint(packet: resent))
        var other = packet
        other[27] = 2  // another sequence number
        XCTAssertNotEqual(SegmentFingerprint(packet: packet), SegmentFingerprint(packet: other))
        XCTAssertNil(SegmentFingerprint(packet: [0x45, 0]))
    }
}
