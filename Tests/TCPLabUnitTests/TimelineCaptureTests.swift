import Foundation
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem
import XCTest

/// The timeline's loss is counted by the kernel's rule counters, not by ENOBUFS events.
final class TimelineCaptureTests: XCTestCase {
    func testEveryLoggingRuleCountsAndNothingElse() throws {
        let table = try FaultPlan(port: 7000, drops: [DropSpec(.synack, .first(2))], delays: [DelaySpec(.data, delay: .milliseconds(5))],
                                  logGroup: 3, tableName: "t").linearize()
        // Each rule that logs has a counter and a comment the sum recognises; no other rule does.
        for rule in table.rules {
            let logs = rule.expressions.contains { if case .log = $0 { true } else { false } }
            let counted = FaultPlan.loggedSegments([NFTRuleCounter(chain: rule.chain, comment: rule.comment, handle: 0, packets: 1, bytes: 0)]) == 1
            XCTAssertEqual(logs, counted, NFTSyntaxRenderer.render(rule, in: table))
            if logs { XCTAssertTrue(rule.expressions.contains(.counter), NFTSyntaxRenderer.render(rule, in: table)) }
        }
    }

    func testLoggedSumsTheFaultAndTimelineRules() {
        let counters = [
            NFTRuleCounter(chain: "fault", comment: "drop synack", handle: 1, packets: 2, bytes: 0),
            NFTRuleCounter(chain: "fault", comment: "delay data", handle: 2, packets: 5, bytes: 0),
            NFTRuleCounter(chain: "fault", comment: "timeline pass", handle: 3, packets: 21_000, bytes: 0),
            NFTRuleCounter(chain: "release", comment: "timeline release", handle: 4, packets: 5, bytes: 0),
            NFTRuleCounter(chain: "prerouting", comment: nil, handle: 5, packets: 99, bytes: 0),
        ]
        XCTAssertEqual(FaultPlan.loggedSegments(counters), 21_012)
    }

    func testCaptureReportsWhatWasMissedAndRoundTrips() throws {
        let capture = TimelineCapture(logged: 21_265, received: 21_229)
        XCTAssertEqual(capture.missed, 36)
        XCTAssertEqual(capture.summary, "the timeline missed 36 of 21265 segments the kernel captured (the reader fell behind and its buffer overflowed)")
        XCTAssertEqual(TimelineCapture(logged: 5, received: 7).missed, 0, "records logged after the counters were read")
        let line = JSONLines.encode(TimelineRecord.capture(capture))
        XCTAssertEqual(line, #"{"logged":21265,"missed":36,"received":21229,"type":"capture"}"#)
        XCTAssertEqual(try JSONDecoder().decode(TimelineRecord.self, from: Data(line.utf8)), .capture(capture))
    }

    func testACopyCutToItsHeadersKeepsItsLengthForThePcap() {
        // IPv4, total length 1500, copied 128 bytes; IPv6 payload length 1440 → 1480.
        var v4 = [UInt8](repeating: 0, count: 128)
        v4[0] = 0x45; v4[2] = 0x05; v4[3] = 0xdc
        XCTAssertEqual(PacketParser.ipPacketLength(v4), 1500)
        var v6 = [UInt8](repeating: 0, count: 128)
        v6[0] = 0x60; v6[4] = 0x05; v6[5] = 0xa0
        XCTAssertEqual(PacketParser.ipPacketLength(v6), 1480)
        XCTAssertNil(PacketParser.ipPacketLength([0x45]))
    }
}

/// A duplicate's copy carries faultproxy's copy mark: both base chains log it once and let it
/// pass before any fault can take it again.
final class CopyRuleTests: XCTestCase {
    func testCopiesSkipTheFaultsAtBothHooksAndAreCounted() throws {
        let table = try FaultPlan(port: 7000, duplicates: [DuplicateSpec(.data, copyDelay: .milliseconds(100))], logGroup: 3, tableName: "t").linearize()
        for chain in [FaultPlan.baseChain, FaultPlan.outputChain] {
            let copies = table.rules.filter { $0.chain == chain && $0.comment == "timeline copy" }
            XCTAssertEqual(copies.count, 2, "\(chain): one per direction")
            for rule in copies {
                XCTAssertTrue(rule.expressions.contains(.cmp(op: .eq, source: .r0, data: withUnsafeBytes(of: FaultPlan.copyMark) { Array($0) })))
                XCTAssertEqual(rule.expressions.last, .verdict(.accept))
                XCTAssertTrue(rule.expressions.contains(.counter))
            }
            // Before the scope rules, which clear the scratch bits the copy's tag is in.
            let first = try XCTUnwrap(table.rules.firstIndex { $0.chain == chain && $0.comment == "timeline copy" })
            let scope = try XCTUnwrap(table.rules.firstIndex { $0.chain == chain && $0.expressions.last == .verdict(.goto(FaultPlan.faultChain)) })
            XCTAssertLessThan(first, scope)
        }
        XCTAssertFalse(try FaultPlan(port: 7000, drops: [DropSpec(.syn)], tableName: "t").linearize().rules.contains { $0.comment == "timeline copy" },
                       "no duplicates, no copies")
    }
}
