import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TCPLab
import XCTest

/// `faultproxy --ladder svg=FILE` on a real run: the picture holds one arrow per segment of the
/// JSON timeline, in its order and with its times, and as many lost arrows as were dropped.
final class FaultProxyLadderTests: WitnessedNamespaceTestCase {
    override class var prefix: String { "tcplab-ladder" }

    func testSVGLadderMatchesTheJSONTimeline() throws {
        let picture = directory.appendingPathComponent("synack-lost.svg").path
        let proxy = try echoThroughFaultProxy(["--drop", "synack:2", "--timeline", "json", "--states", "--ladder", "svg=\(picture)"])
        XCTAssertTrue(proxy.standardError.contains("wrote the svg ladder"), proxy.standardError)

        let segments = try proxy.standardOutput.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }.filter { $0["type"] as? String == "segment" }
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: picture), options: [])
        let groups = try document.nodes(forXPath: "//*[local-name()='g'][contains(concat(' ', @class, ' '), ' segment ')]").compactMap { $0 as? XMLElement }
        func attribute(_ element: XMLElement, _ name: String) -> String? { element.attributes?.first { $0.name == name }?.stringValue }

        XCTAssertEqual(groups.count, segments.count, "one arrow per timeline segment")
        let drops = segments.filter { $0["fate"] as? String == "dropped" }.count
        XCTAssertEqual(drops, 2)
        XCTAssertEqual(groups.filter { (attribute($0, "class") ?? "").contains("dropped") }.count, drops)
        let first = (segments.first?["unix_us"] as? NSNumber)?.int64Value ?? 0
        for (group, segment) in zip(groups, segments) {
            XCTAssertEqual(attribute(group, "data-kind"), segment["kind"] as? String)
            XCTAssertEqual(attribute(group, "data-t-us"), (segment["t_us"] as? NSNumber).map { "\($0.int64Value)" })
            XCTAssertEqual(attribute(group, "data-unix-us"), (segment["unix_us"] as? NSNumber).map { "\($0.int64Value)" })
            // The time printed on the row: the JSON's unix_us from the first segment, to the microsecond.
            let shown = try group.nodes(forXPath: "*[@class='time']").first?.stringValue
            let micros = ((segment["unix_us"] as? NSNumber)?.int64Value ?? 0) - first
            XCTAssertEqual(shown, String(format: "+%d.%06ds", micros / 1_000_000, micros % 1_000_000))
        }
        let states = try document.nodes(forXPath: "//*[local-name()='g'][@class='state']").compactMap { $0 as? XMLElement }
        XCTAssertTrue(states.contains { attribute($0, "data-side") == "server" && attribute($0, "data-state") == "SYN_RECV" },
                      "the server's SYN_RECV band from --states")
    }

    func testLadderOnStdoutRefusesToShareItWithJSON() throws {
        let result = try CommandRunner.run([try LabBinaries.path("faultproxy"), "--target", "7000", "--timeline", "json", "--ladder", "svg"], check: false)
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.standardError.contains("--ladder svg would share stdout with JSON lines"), result.standardError)
        let bad = try CommandRunner.run([try LabBinaries.path("faultproxy"), "--target", "7000", "--ladder", "png"], check: false)
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.standardError.contains("--ladder"), bad.standardError)
    }
}
