import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import TCPLab
import TCPLabObserve
import XCTest

/// The HTML report's pages, parsed back (they are well-formed XML as well as HTML): the verdict
/// rows, the question in both languages, the ladder inline with the judged checks on it.
final class LabHTMLReportTests: XCTestCase {
    func report() -> LabReport {
        let observation = Observation(events: LadderPictureFixture.events(), transitions: LadderPictureFixture.transitions())
        let origin = LadderPictureFixture.origin
        let checks = [
            LabCheck(what: "SYN retransmission 1", expected: "+1.000 s", observed: "+1.000 s", tolerance: "±0.030 s", passed: true,
                     expectedSeconds: 1, observedSeconds: 1, originUnixMicroseconds: origin, toleranceSeconds: 0.03),
            LabCheck(what: "SYN retransmission 2", expected: "+3.000 s", observed: "+3.500 s", tolerance: "±0.070 s", passed: false,
                     expectedSeconds: 3, observedSeconds: 3.5, originUnixMicroseconds: origin, toleranceSeconds: 0.07),
            LabCheck(what: "connect() returns <ETIMEDOUT>", expected: "+7.000 s", observed: "+7.010 s", tolerance: "±0.15 s", passed: true,
                     expectedSeconds: 7, observedSeconds: 7.01),
            LabCheck(what: "both & echoed", expected: "yes", observed: "yes", tolerance: nil, passed: true),
        ]
        return LabReport(name: "syn-lost", profile: .fast, topology: .twoHosts, status: .failed, reason: nil,
                         sysctls: ["tcp_syn_retries=2"], checks: checks,
                         claims: [LabClaim(notesSay: "重传 3 次", kernelDoes: "2 retransmissions (tcp_syn_retries=2)", agrees: false)],
                         ladders: [LabLadder(title: "every SYN dropped", text: observation.ladder(), observation: observation)],
                         facts: ["a fact"], seconds: 4.2)
    }

    func elements(_ html: String, _ xpath: String) throws -> [XMLElement] {
        let document = try XMLDocument(xmlString: html, options: [])
        return try document.nodes(forXPath: xpath).compactMap { $0 as? XMLElement }
    }

    func testLabPage() throws {
        let page = LabHTMLReport(directory: "/nonexistent").page(report())
        let rows = try elements(page, "//tr[starts-with(@class, 'check ')]")
        XCTAssertEqual(rows.map { $0.attributes?.first { $0.name == "class" }?.stringValue }, ["check pass", "check fail", "check pass", "check pass"])
        XCTAssertEqual(rows[2].children?.first?.stringValue, "connect() returns <ETIMEDOUT>", "escaped, and read back as written")
        let question = try XCTUnwrap(LabCatalogue.named("syn-lost")?.question)
        XCTAssertTrue(question.contains("(the first handshake segment is lost)"))
        XCTAssertEqual(try elements(page, "//p[@lang='zh']").first?.stringValue, "第一次握手丢失了，会发生什么？")
        XCTAssertEqual(try elements(page, "//p[@lang='en']").first?.stringValue, "the first handshake segment is lost")
        XCTAssertEqual(try elements(page, "//*[@class='topology']").first?.stringValue?.hasPrefix("two-hosts"), true)
        XCTAssertEqual(try elements(page, "//*[@class='sysctls']/code").map(\.stringValue), ["tcp_syn_retries=2"])
        XCTAssertEqual(try elements(page, "//table[@class='claims']//tr[@class='disagrees']").count, 1)
        // The ladder inline: its arrows, and the two checks measured from its first SYN (the third has no origin).
        let svg = try elements(page, "//*[local-name()='svg']")
        XCTAssertEqual(svg.count, 1)
        XCTAssertEqual(try elements(page, "//*[local-name()='g'][contains(@class, 'segment ')]").count, LadderPictureFixture.events().count)
        XCTAssertEqual(try elements(page, "//*[local-name()='g'][contains(@class, 'judgement ')]").count, 2)
        XCTAssertEqual(try elements(page, "//pre").count, 1, "the text ladder folded under the picture")
        XCTAssertFalse(page.contains("<script"))
        XCTAssertNil(page.range(of: "(src|href)=\"(https?:)?//", options: .regularExpression), "nothing fetched")
    }

    func testIndexLinksEveryLab() throws {
        var skipped = report()
        skipped.name = "handshake"
        skipped.status = .skipped
        let index = LabHTMLReport(directory: "/nonexistent", runDescription: "fast profile").index([report(), skipped])
        let links = try elements(index, "//a").map { $0.attributes?.first { $0.name == "href" }?.stringValue }
        XCTAssertEqual(links, ["syn-lost.html", "handshake.html"])
        XCTAssertEqual(try elements(index, "//tr[contains(@class, 'lab ')]/td[@class='status']").map(\.stringValue), ["FAIL", "SKIP"])
        XCTAssertEqual(try elements(index, "//p[@class='totals']").first?.stringValue, "0 passed, 1 failed, 1 skipped")
    }

    func testWritesIndexAndPages() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tcplab-html-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try LabHTMLReport(directory: directory).write([report()])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["index.html", "syn-lost.html"])
        XCTAssertThrowsError(try LabHTMLReport(directory: "/proc/tcplab-cannot").write([report()]))
    }

    func testQuestionSplit() {
        XCTAssertTrue(LabHTMLReport.split("TCP 为什么三次握手而不是两次握手 / TCP 三次握手过程 (why three handshakes, and what each carries)")
            == ("TCP 为什么三次握手而不是两次握手 / TCP 三次握手过程", "why three handshakes, and what each carries"))
        XCTAssertTrue(LabHTMLReport.split("只有中文") == ("只有中文", nil))
    }

    func testChecksWithoutOriginAreNotDrawn() {
        let report = report()
        XCTAssertEqual(report.ladders[0].judgements(report.checks).map(\.label), ["SYN retransmission 1", "SYN retransmission 2"])
        let judged = report.checks[1].judgement
        XCTAssertEqual(judged?.expectedUnixMicroseconds, LadderPictureFixture.origin + 3_000_000)
        XCTAssertEqual(judged?.observedUnixMicroseconds, LadderPictureFixture.origin + 3_500_000)
        XCTAssertEqual(judged?.toleranceMicroseconds, 70_000)
    }
}
