import Foundation
import TCPLabSchema
import XCTest
@testable import DockerJudge

/// What the judge reads from the shared results directory, with the shapes the labs really
/// produced (faultproxy's report landing inside a ladder line, a split multi-byte character).
final class JudgeParsingTests: XCTestCase {
    var directory: ResultsDirectory!

    override func setUpWithError() throws {
        let path = NSTemporaryDirectory() + "tcplab-judge-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        directory = ResultsDirectory(path: path)
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(atPath: directory.path) }
    }

    func write(_ name: String, _ bytes: [UInt8]) {
        _ = FileManager.default.createFile(atPath: directory.file(name), contents: Data(bytes))
    }

    func testDropReportInsideALadderLineIsFoundAndTheLineJoinedAgain() {
        let text = """
        +0.000000s client S seq 0 [syn] ✗ dropped
        time         client      server
        +3.068955s                         {"dropped":{"synack":8}}
                  SYN_RECV (retransmit timer 2 s, retrans 4)
        +7.135747s   CLOSED

        """
        write("faultproxy.out", Array(text.utf8))
        XCTAssertEqual(directory.decode(DropReport.self, from: "faultproxy.out", having: "dropped")?.dropped, ["synack": 8])
        let ladder = directory.ladder("faultproxy.out") ?? ""
        XCTAssertTrue(ladder.hasPrefix("time "), ladder)
        let joined = ladder.split(separator: "\n").first { $0.hasPrefix("+3.068955s") } ?? ""
        XCTAssertTrue(joined.hasSuffix("SYN_RECV (retransmit timer 2 s, retrans 4)"), "the split line is one line again: \(ladder)")
        XCTAssertFalse(ladder.contains("dropped\":"), ladder)
    }

    func testASplitMultiByteCharacterDoesNotLoseTheFile() {
        // "─" is E2 94 80; the report landed after its first byte.
        let bytes = Array("+5.1s ◀──".utf8) + [0xE2] + Array("{\"dropped\":{\"keepalive-ack\":3}}\n".utf8)
        write("faultproxy.out", bytes)
        XCTAssertEqual(directory.decode(DropReport.self, from: "faultproxy.out", having: "dropped")?.dropped, ["keepalive-ack": 3])
    }

    func testClientReportIsTheLastJSONObjectWithConnectTime() {
        let line = #"{"connect_ms":7128.2,"echo_ok":false,"bytes":0,"error":"ETIMEDOUT","sent":0,"first_write_ms":null,"#
            + #""elapsed_ms":7130.5,"connections":1,"local":null,"tcp_info":{"state":"SYN_SENT","retransmits":6,"#
            + #""total_retrans":6,"rto_us":204000,"probes":0,"backoff":6,"rtt_us":0}}"#
        write("client.out", Array("noise\n\(line)\n".utf8))
        let report = ClientReport(report: directory.decode(EchoClientReport.self, from: "client.out", having: "connect_ms"), status: 2)
        XCTAssertEqual(report.error, "ETIMEDOUT")
        XCTAssertEqual(report.connectSeconds ?? 0, 7.1282, accuracy: 1e-9)
        XCTAssertEqual(report.rtoSeconds ?? 0, 0.204, accuracy: 1e-9)
    }

    func testStatusAndEndTimeFromTheStepFiles() {
        write("client.status", Array("4\n".utf8))
        write("client.ended", Array("1700000000.250000000\n".utf8))
        XCTAssertEqual(directory.status("client"), 4)
        XCTAssertEqual(directory.ended("client")?.timeIntervalSince1970 ?? 0, 1_700_000_000.25, accuracy: 1e-6)
        XCTAssertNil(directory.status("faultproxy"))
    }

    func testWaitingForAMissingPieceGivesUpAndSaysWhich() {
        XCTAssertThrowsError(try directory.wait(for: "faultproxy.status", timeout: 0.05)) { error in
            XCTAssertTrue("\(error)".contains("faultproxy.status"), "\(error)")
        }
    }

    func testHoldIsReadFromTheClientsCommandLine() {
        XCTAssertEqual(LabJudge.holdSeconds("echo-client --json --port 7000 --hold 2.5s"), 2.5)
        XCTAssertEqual(LabJudge.holdSeconds("echo-client --hold 250ms"), 0.25)
        XCTAssertNil(LabJudge.holdSeconds("echo-client --json"))
    }

    func testKeepaliveTriple() {
        XCTAssertEqual(JudgeCommand.keepaliveTriple("2,1,3")?.count, 3)
        XCTAssertEqual(JudgeCommand.keepaliveTriple("2,1,3")?.idle, 2)
        XCTAssertNil(JudgeCommand.keepaliveTriple("2,1"))
    }

    func testVerdictPassesOnlyWhenEveryRowPasses() {
        var verdict = Verdict()
        XCTAssertFalse(verdict.passed, "an empty verdict judged nothing")
        verdict.time("connect() gives up", expected: 7, observed: 7.128, timers: [1, 1, 1, 1, 1, 2], tolerance: .forTick())
        XCTAssertTrue(verdict.passed, verdict.table)
        verdict.time("connect() gives up", expected: 7, observed: 8, timers: [1, 1, 1, 1, 1, 2], tolerance: .forTick())
        XCTAssertFalse(verdict.passed)
        XCTAssertTrue(verdict.table.contains("but it happened at +8.000 s"), verdict.table)
        verdict = Verdict()
        verdict.time("never seen", expected: 1, observed: nil, timers: [], tolerance: .forTick())
        XCTAssertFalse(verdict.passed)
    }

    func testSysctlsReadFromAProcLikeDirectory() throws {
        let root = directory.path + "/ipv4"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "2\n".write(toFile: root + "/tcp_syn_retries", atomically: true, encoding: .utf8)
        try "120000\n".write(toFile: root + "/tcp_rto_max_ms", atomically: true, encoding: .utf8)
        let sysctls = KernelSysctls.read(root: root)
        XCTAssertEqual(sysctls["tcp_syn_retries"], 2)
        XCTAssertNil(sysctls["tcp_syn_linear_timeouts"], "absent on this kernel")
        XCTAssertEqual(sysctls.kernel.rtoMax, 120)
        XCTAssertEqual(sysctls.describe(["tcp_syn_retries", "tcp_syn_linear_timeouts"]), "tcp_syn_retries=2 tcp_syn_linear_timeouts=absent")
    }

    /// faultproxy's --pcap layout: little-endian µs header, link type 101 (raw IP), one IPv4/TCP packet each.
    func testPcapSegmentsAreReadWithTheirTimesPortsSequenceAndFlags() throws {
        func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func packet(sport: UInt16, dport: UInt16, seq: UInt32, ack: UInt32, flags: UInt8, payload: Int) -> [UInt8] {
            var ip: [UInt8] = [0x45, 0] + be16(UInt16(40 + payload)) + [0, 0, 0x40, 0, 64, 6, 0, 0] + [198, 18, 7, 2] + [198, 18, 7, 10]
            ip += be16(sport) + be16(dport) + be32(seq) + be32(ack) + [0x50, flags] + be16(64240) + [0, 0, 0, 0]
            return ip + [UInt8](repeating: 0x61, count: payload)
        }
        var file = le32(0xA1B2_C3D4) + [2, 0, 4, 0] + le32(0) + le32(0) + le32(262_144) + le32(101)
        for (time, bytes) in [(UInt32(1_800_000_000), packet(sport: 45740, dport: 7000, seq: 1006, ack: 2006, flags: 0x11, payload: 0)),
                              (UInt32(1_800_000_001), packet(sport: 7000, dport: 45740, seq: 2006, ack: 1007, flags: 0x18, payload: 5))] {
            file += le32(time) + le32(250_000) + le32(UInt32(bytes.count)) + le32(UInt32(bytes.count)) + bytes
        }
        write("faultproxy.pcap", file)
        let segments = try PcapSegments.read(path: directory.file("faultproxy.pcap"))
        XCTAssertEqual(segments.count, 2)
        XCTAssertEqual(segments[0].time, 1_800_000_000.25, accuracy: 1e-6)
        XCTAssertEqual(segments[0].sourcePort, 45740)
        XCTAssertEqual(segments[0].destinationPort, 7000)
        XCTAssertEqual(segments[0].sequence, 1006)
        XCTAssertEqual(segments[0].acknowledgment, 2006)
        XCTAssertTrue(segments[0].fin && segments[0].ack && !segments[0].syn)
        XCTAssertEqual(segments[1].payloadLength, 5)
        XCTAssertFalse(segments[1].fin)
        XCTAssertThrowsError(try PcapSegments.parse([UInt8](repeating: 0, count: 24)))
    }
}
