import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import XCTest

/// How delayed and duplicated segments reach the timeline: the queue rules' log prefix names
/// the fault and its timing, the timeline reads both back.
final class DelayTimelineTests: XCTestCase {
    func testQueueRulesLogTheirTiming() throws {
        let plan = FaultPlan(port: 7000, delays: [DelaySpec(.synack, delay: .milliseconds(300), jitter: .milliseconds(5))],
                             duplicates: [DuplicateSpec(.syn, .first(1), copyDelay: .milliseconds(500))], logGroup: 3)
        let prefixes = try plan.linearize().rules.flatMap(\.expressions).compactMap { expression -> String? in
            if case .log(_, let prefix, _) = expression { return prefix }
            return nil
        }
        XCTAssertTrue(prefixes.contains("tcplab delay synack 300ms~5ms"), "\(prefixes)")
        XCTAssertTrue(prefixes.contains("tcplab duplicate syn 500ms"), "\(prefixes)")
    }

    func testPrefixesParseToFateKindAndTiming() throws {
        XCTAssertEqual(FaultTag(logPrefix: "tcplab duplicate syn 500ms")?.fate, .duplicated)
        XCTAssertEqual(FaultTag(logPrefix: "tcplab duplicate syn 500ms")?.kind, .syn)
        XCTAssertEqual(FaultTag(logPrefix: "tcplab delay synack 300ms")?.fate, .delayed)
        let timing = try XCTUnwrap(FaultTag(logPrefix: "tcplab delay synack 300ms~5ms")?.timingMicroseconds)
        XCTAssertEqual(timing.delay, 300_000)
        XCTAssertEqual(timing.jitter, 5_000)
        XCTAssertNil(FaultTag(logPrefix: "tcplab delay synack")?.timingMicroseconds, "an older faultproxy's prefix")
        XCTAssertNil(FaultTag(logPrefix: "tcplab drop synack")?.timingMicroseconds)
    }

    func testTheTimelineShowsTheDelay() throws {
        // SYN-ACK 127.0.0.1:7000 > 127.0.0.1:40000, logged by a delay rule.
        var packet: [UInt8] = [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
        packet += [0x1b, 0x58, 0x9c, 0x40, 0, 0, 0, 9, 0, 0, 0, 2, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0]
        let record = NFLogRecord(group: 3, family: 2, timestampMicroseconds: 1_000_000, prefix: "tcplab delay synack 300ms", packet: packet)
        let segment = try CapturedSegment(record: record)
        let event = try XCTUnwrap(TimelineBuilder.build([segment], serverPorts: [7000]).first)
        XCTAssertEqual(event.fate, .delayed)
        XCTAssertEqual(event.faultDelayMicroseconds, 300_000)
        XCTAssertNil(event.faultJitterMicroseconds)
        XCTAssertTrue(event.summary.hasSuffix("⧖ delayed 300 ms"), event.summary)
        let json = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        XCTAssertTrue(json.contains("\"fate\":\"delayed\""), json)
        XCTAssertTrue(json.contains("\"fault_delay_us\":300000"), json)
    }
}
