import Foundation
import TCPLab
import XCTest

/// faultproxy's timeline against an independent witness: tcpdump on the namespace's loopback.
final class FaultProxyTimelineTests: WitnessedNamespaceTestCase {
    override class var prefix: String { "tcplab-timeline" }

    func testTimelineMatchesTcpdumpSegmentForSegment() throws {
        let capture = directory.appendingPathComponent("witness.pcap").path
        let pcap = directory.appendingPathComponent("faultproxy.pcap").path
        let tcpdump = try startWitness(port: 7001, capture: capture)
        defer { tcpdump.stop() }
        let proxy = try echoThroughFaultProxy(["--drop", "synack:2", "--timeline", "json", "--states", "--pcap", pcap])
        tcpdump.signal(SIGINT)
        tcpdump.wait(timeout: 10)

        let lines = try proxy.standardOutput.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let segments = lines.filter { $0["type"] as? String == "segment" }
        let states = lines.filter { $0["type"] as? String == "state" }

        // The kinds, in order, with faultproxy's verdicts.
        let kinds = segments.map { "\($0["kind"]!)\($0["fate"] as? String == "dropped" ? "✗" : "")" }
        XCTAssertEqual(kinds.first, "syn")
        XCTAssertEqual(kinds.filter { $0 == "synack✗" }.count, 2, "\(kinds)")
        XCTAssertEqual(segments.filter { $0["kind"] as? String == "synack" && $0["fate"] as? String == "passed" }.count, 1, "\(kinds)")
        XCTAssertTrue(kinds.contains("handshake-ack"))
        XCTAssertEqual(Array(kinds.suffix(3)), ["fin", "peer-fin", "last-ack"], "\(kinds)")
        XCTAssertEqual(kinds.filter { $0 == "data" }.count, 2)
        XCTAssertTrue(states.contains { $0["side"] as? String == "server" && $0["state"] as? String == "SYN_RECV" }, "\(states)")
        XCTAssertTrue(states.contains { $0["side"] as? String == "client" && $0["state"] as? String == "TIME_WAIT" }, "\(states)")

        // The witness: every segment tcpdump saw on lo, with the same flags and length, within 1 ms.
        let witness = try Self.witnessedSegments(capture)
        XCTAssertEqual(witness.count, segments.count, "tcpdump saw \(witness.count) segments, the timeline \(segments.count)")
        var worst: Int64 = 0
        for (seen, event) in zip(witness, segments) {
            XCTAssertEqual(seen.flags, event["flags"] as? String)
            XCTAssertEqual(seen.length, event["len_bytes"] as? Int)
            let difference = abs(seen.micros - ((event["unix_us"] as? NSNumber)?.int64Value ?? 0))
            worst = max(worst, difference)
        }
        XCTAssertLessThan(worst, 1000, "timeline and tcpdump timestamps differ by up to \(worst) µs")
        print("timeline vs tcpdump: \(segments.count) segments, worst timestamp difference \(worst) µs")

        // The pcap faultproxy wrote reads back with the same count.
        let readBack = try CommandRunner.run(["tcpdump", "-n", "-r", pcap]).standardOutput.split(separator: "\n")
        XCTAssertEqual(readBack.count, segments.count)
    }
}
