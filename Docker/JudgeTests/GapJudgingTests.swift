import TCPLabModel
import XCTest
@testable import DockerJudge

/// The keepalive probes found in a capture, and the judge's gap-relative rows on hand-made times.
final class GapJudgingTests: XCTestCase {
    let port: UInt16 = 7000

    func segment(_ time: Double, fromServer: Bool, sequence: UInt32, flags: UInt8 = 0x10, length: Int = 0) -> WireSegment {
        WireSegment(time: time, sourcePort: fromServer ? port : 40000, destinationPort: fromServer ? 40000 : port,
                    sequence: sequence, acknowledgment: 0, flags: flags, payloadLength: length)
    }

    /// The echo (5 bytes each way), then three probes one below the server's next sequence number,
    /// the client's dropped answers between them, and the RST.
    var keepaliveCapture: [WireSegment] {
        [segment(0.000, fromServer: false, sequence: 1, flags: 0x18, length: 5),
         segment(0.001, fromServer: true, sequence: 1, flags: 0x18, length: 5),
         segment(0.002, fromServer: false, sequence: 6),
         segment(2.010, fromServer: true, sequence: 5),
         segment(2.011, fromServer: false, sequence: 6),
         segment(3.030, fromServer: true, sequence: 5),
         segment(4.050, fromServer: true, sequence: 5),
         segment(5.070, fromServer: true, sequence: 6, flags: 0x04)]
    }

    func testProbesAreTheBareACKsOneBelowTheNextSequenceNumber() {
        let found = KeepaliveProbes(keepaliveCapture, serverPort: port)
        XCTAssertEqual(found.probes.map(\.time), [2.010, 3.030, 4.050])
        XCTAssertEqual(found.lastFromClient?.time, 0.002, "the client's ACK of the echo, before the first probe")
        XCTAssertEqual(found.reset?.time, 5.070)
        XCTAssertTrue(KeepaliveProbes(Array(keepaliveCapture.prefix(3)), serverPort: port).probes.isEmpty,
                      "the echo's own segments are no probes")
    }

    func testEachProbeAndTheResetAreJudgedFromTheOneBefore() {
        let judge = LabJudge(lab: .clientDeadKeepalive, parameters: KernelSysctls(values: [:]),
                             results: ResultsDirectory(path: "/nonexistent"), timeout: 1, census: SocketCensus(port: port))
        var verdict = Verdict()
        judge.judgeKeepalive(&verdict, keepaliveCapture, idle: 2, interval: 1, count: 3)
        XCTAssertEqual(verdict.rows.count, 5, verdict.table)
        XCTAssertTrue(verdict.passed, verdict.table)
        XCTAssertEqual(verdict.rows[1].predicted, "+2.000 s −0.004/+0.046 s", "probe 1: idle after the client's last segment")
        XCTAssertEqual(verdict.rows[2].predicted, "+3.008 s −0.004/+0.046 s", "probe 2: one interval after probe 1 (1 s: a 32 ms wheel slot)")

        // Probe 2 70 ms after its interval: beyond the 46 ms a 1 s timer may be late.
        var late = keepaliveCapture
        late[5].time = 3.080
        var failing = Verdict()
        judge.judgeKeepalive(&failing, late, idle: 2, interval: 1, count: 3)
        XCTAssertFalse(failing.rows[2].passed, failing.table)
    }
}
