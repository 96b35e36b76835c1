import Foundation
import TCPLab
import XCTest

/// faultproxy's drops against the real kernel: each test makes a namespace with short retry
/// sysctls, reads them back, and judges the outcome against the retransmission model fed with
/// what it read — never against constants.
final class FaultProxyDropTests: XCTestCase {
    var lab: LabNamespace!
    var tolerance = TimingTolerance.forTick()

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        lab = try LabNamespace(prefix: "tcplab-drop")
        try lab.setSysctl("net.ipv4.tcp_syn_retries", "2")
        try lab.setSysctl("net.ipv4.tcp_synack_retries", "2")
    }

    override func tearDown() {
        lab?.delete()
    }

    // MARK: helpers

    func startServer(_ arguments: [String] = []) throws -> LabProcess {
        try lab.startEchoServer(arguments)
    }

    func startFaultProxy(_ arguments: [String]) throws -> LabProcess {
        let proxy = try lab.spawn([try LabBinaries.path("faultproxy"), "--json"] + arguments)
        try proxy.awaitRulesInstalled()
        return proxy
    }

    /// SIGINT, then the drop counts from the final JSON report.
    func stopAndReport(_ proxy: LabProcess) throws -> [String: Int] {
        proxy.signal(SIGINT)
        XCTAssertEqual(proxy.wait(timeout: 10), 0, proxy.standardError)
        let line = try XCTUnwrap(proxy.standardOutput.split(separator: "\n").last, proxy.standardError)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return try XCTUnwrap(object?["dropped"] as? [String: Int])
    }

    func client(_ arguments: [String], timeout: Double = 60) throws -> (status: Int32, report: [String: Any], stderr: String) {
        let result = try lab.run([try LabBinaries.path("echo-client"), "--json"] + arguments, timeout: timeout, check: false)
        let line = result.standardOutput.split(separator: "\n").last.map(String.init) ?? "{}"
        return (result.status, try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:], result.standardError)
    }

    /// Judges a measured time against the model: `timers` are the kernel timers that lead to it.
    func assertTime(_ what: String, expected: Double, timers: [Double], observedMilliseconds: Any?, file: StaticString = #filePath, line: UInt = #line) {
        guard let observed = observedMilliseconds as? Double else { return XCTFail("no \(what) measured", file: file, line: line) }
        if let failure = tolerance.check(what, expected: expected, observed: observed / 1000, timers: timers) {
            XCTFail(failure, file: file, line: line)
        }
    }

    func synSchedule() throws -> RetransmissionSchedule {
        RetransmissionModel.syn(synRetries: try lab.sysctlInt("net.ipv4.tcp_syn_retries"),
                                linearTimeouts: (try? lab.sysctlInt("net.ipv4.tcp_syn_linear_timeouts")) ?? 0)
    }

    /// Socket lines `ss -Htan` prints for `filter` (e.g. ["state", "syn-recv"]).
    func sockets(_ filter: [String]) throws -> [Substring] {
        try lab.run(["ss", "-Htan"] + filter).standardOutput.split(separator: "\n")
    }

    // MARK: handshake

    func testEverySynDroppedTimesOutOnTheKernelsSchedule() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "syn", "--target", "7000"])
        defer { proxy.stop() }
        let schedule = try synSchedule()
        let (status, report, stderr) = try client([])
        XCTAssertEqual(status, 2, stderr)
        XCTAssertEqual(report["error"] as? String, "ETIMEDOUT")
        XCTAssertTrue(stderr.contains("Connection timed out (ETIMEDOUT) after "), stderr)
        assertTime("ETIMEDOUT", expected: schedule.giveUp, timers: schedule.timeouts, observedMilliseconds: report["connect_ms"])
        XCTAssertEqual(try stopAndReport(proxy)["syn"], schedule.transmissions, "every SYN and retransmission dropped")
    }

    func testFirstSynDroppedConnectsOneInitialRTOLate() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "handshake-1:1", "--target", "7000"])
        defer { proxy.stop() }
        let (status, report, stderr) = try client([])
        XCTAssertEqual(status, 0, stderr)
        let schedule = try synSchedule()
        assertTime("connect after one lost SYN", expected: schedule.retransmissions[0], timers: schedule.timeouts(untilRetransmission: 0), observedMilliseconds: report["connect_ms"])
        XCTAssertEqual(try stopAndReport(proxy)["syn"], 1)
    }

    func testTwoSynAcksDroppedThroughTheRelayConnectAboutASecondLate() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "synack:2"])
        defer { proxy.stop() }
        let (status, report, stderr) = try client(["--port", "7001"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(report["echo_ok"] as? Bool, true)
        // The SYN-ACK is lost; at the first retransmission timeout (1 s, on both ends) the client's
        // repeated SYN draws a SYN-ACK (lost too) and the server's own SYN-ACK timer sends one that passes.
        let syn = try synSchedule()
        let synAck = RetransmissionModel.synAck(synackRetries: try lab.sysctlInt("net.ipv4.tcp_synack_retries"))
        let firstRetry = min(syn.retransmissions[0], synAck.retransmissions[0])
        assertTime("connect after two lost SYN-ACKs", expected: firstRetry, timers: [firstRetry], observedMilliseconds: report["connect_ms"])
        XCTAssertEqual(try stopAndReport(proxy)["synack"], 2)
    }

    /// Two runs on one port keep per-connection state of their own (each table its own map keyed
    /// by ct id, not shared ct mark bits): both drop a SYN-ACK, so two are lost in all. The
    /// reports are the kernel's rule counters, one table each.
    func testTwoFaultProxiesOnOnePortEachDropTheirOwnSynAck() throws {
        let server = try startServer()
        defer { server.stop() }
        let first = try startFaultProxy(["--drop", "synack:1", "--target", "7000"])
        defer { first.stop() }
        let second = try startFaultProxy(["--drop", "synack:1", "--target", "7000"])
        defer { second.stop() }
        let (status, report, stderr) = try client([])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(report["echo_ok"] as? Bool, true)
        let counts = [try stopAndReport(first)["synack"], try stopAndReport(second)["synack"]]
        XCTAssertEqual(counts, [1, 1], "each run drops the first SYN-ACK it sees: two lost in all")
    }

    func testEverySynAckDroppedTimesOutOnTheClientsSchedule() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "synack", "--target", "7000"])
        defer { proxy.stop() }
        let (status, report, stderr) = try client([])
        XCTAssertEqual(status, 2, stderr)
        XCTAssertEqual(report["error"] as? String, "ETIMEDOUT")
        let schedule = try synSchedule()
        assertTime("ETIMEDOUT", expected: schedule.giveUp, timers: schedule.timeouts, observedMilliseconds: report["connect_ms"])
        XCTAssertGreaterThanOrEqual(try stopAndReport(proxy)["synack"] ?? 0, 3)
    }

    func testLostHandshakeAckLeavesTheServerInSynRecvUntilDataArrives() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "handshake-ack", "--target", "7000"])
        defer { proxy.stop() }
        // The client is ESTABLISHED at once and idles 2.5 s before sending.
        let client = try lab.spawn([try LabBinaries.path("echo-client"), "--json", "--hold", "2.5s"])
        defer { client.stop() }
        usleep(1_500_000)
        XCTAssertEqual(try sockets(["state", "syn-recv", "sport", "= :7000"]).count, 1, "server half-open in SYN_RECV")
        XCTAssertEqual(try sockets(["state", "established", "dport", "= :7000"]).count, 1, "client established")
        XCTAssertEqual(client.wait(timeout: 10), 0, client.standardError)
        XCTAssertTrue(client.standardOutput.contains("\"echo_ok\":true"))
        // The first ACK and the re-ACK of the SYN-ACK retransmitted at 1 s were dropped; the data completed the handshake.
        XCTAssertGreaterThanOrEqual(try stopAndReport(proxy)["handshake-ack"] ?? 0, 2)
    }

    func testIPv6SynAckIsDroppedLikeIPv4() throws {
        let server = try startServer(["--host", "::1", "--port", "7100"])
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "synack:1", "--target", "7100"])
        defer { proxy.stop() }
        let (status, report, stderr) = try client(["--host", "::1", "--port", "7100"])
        XCTAssertEqual(status, 0, stderr)
        let synAck = RetransmissionModel.synAck(synackRetries: try lab.sysctlInt("net.ipv4.tcp_synack_retries"))
        let firstRetry = min(try synSchedule().retransmissions[0], synAck.retransmissions[0])
        assertTime("connect after one lost SYN-ACK over IPv6", expected: firstRetry, timers: [firstRetry], observedMilliseconds: report["connect_ms"])
        XCTAssertEqual(try stopAndReport(proxy)["synack"], 1)
    }

    // MARK: teardown

    func testLostFinIsRetransmittedUntilItPasses() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "fin:2", "--target", "7000"])
        defer { proxy.stop() }
        let (status, _, stderr) = try client([])
        XCTAssertEqual(status, 0, stderr)
        // The client closed first; while its FIN is lost it sits in FIN_WAIT1 and retransmits on RTO.
        XCTAssertEqual(try sockets(["state", "fin-wait-1", "dport", "= :7000"]).count, 1)
        // Two RTOs (≥ 200 ms each, doubling) later the third FIN passes and the close completes.
        var timeWait = 0
        for _ in 0..<100 where timeWait == 0 {
            timeWait = try sockets(["state", "time-wait", "dport", "= :7000"]).count
            usleep(20_000)
        }
        XCTAssertEqual(timeWait, 1, "the client reaches TIME_WAIT once a FIN passes")
        XCTAssertEqual(try stopAndReport(proxy)["fin"], 2)
    }

    func testLostFinAckIsNotRetransmittedButTheFinRetransmissionDrawsANewOne() throws {
        // The server closes a second after accept, so its ACK of the client's FIN travels alone.
        let server = try startServer(["--close", "after:1s"])
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "fin-ack:1", "--target", "7000"])
        defer { proxy.stop() }
        let (status, _, stderr) = try client(["--close", "shutdown"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(try stopAndReport(proxy)["fin-ack"], 1)
        XCTAssertEqual(try sockets(["state", "time-wait", "dport", "= :7000"]).count, 1)
    }

    func testLostPeerFinLeavesTheServerInLastAck() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "peer-fin:1", "--target", "7000"])
        defer { proxy.stop() }
        let (status, _, stderr) = try client([])
        XCTAssertEqual(status, 0, stderr)
        usleep(50_000)
        XCTAssertEqual(try sockets(["state", "last-ack", "sport", "= :7000"]).count, 1, "server waits for the ACK of its lost FIN")
        // The echo-server closes as soon as it reads EOF, so its ACK of the client's FIN rides on
        // its own FIN (a three-segment close): losing that FIN leaves the client in FIN_WAIT1.
        XCTAssertEqual(try sockets(["state", "fin-wait-1", "dport", "= :7000"]).count, 1, "client's FIN not yet acknowledged")
        var timeWait = 0
        for _ in 0..<100 where timeWait == 0 {
            timeWait = try sockets(["state", "time-wait", "dport", "= :7000"]).count
            usleep(20_000)
        }
        XCTAssertEqual(timeWait, 1, "the retransmitted FIN completes the close")
        XCTAssertEqual(try stopAndReport(proxy)["peer-fin"], 1)
    }

    func testLostLastAckMakesTheServerRetransmitItsFin() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "last-ack:1", "--target", "7000"])
        defer { proxy.stop() }
        let (status, _, stderr) = try client([])
        XCTAssertEqual(status, 0, stderr)
        usleep(50_000)
        XCTAssertEqual(try sockets(["state", "last-ack", "sport", "= :7000"]).count, 1)
        XCTAssertEqual(try sockets(["state", "time-wait", "dport", "= :7000"]).count, 1, "the client is in TIME_WAIT already")
        var lastAck = 1
        for _ in 0..<100 where lastAck > 0 {
            lastAck = try sockets(["state", "last-ack", "sport", "= :7000"]).count
            usleep(20_000)
        }
        XCTAssertEqual(lastAck, 0, "the FIN retransmission is answered from TIME_WAIT and the server closes")
        XCTAssertEqual(try stopAndReport(proxy)["last-ack"], 1)
    }

    // MARK: after the connection is up

    func testLostResetLeavesTheServerEstablished() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "rst", "--from", "client", "--target", "7000"])
        defer { proxy.stop() }
        let (status, _, stderr) = try client(["--linger-reset"])
        XCTAssertEqual(status, 0, stderr)
        usleep(50_000)
        XCTAssertEqual(try sockets(["state", "established", "sport", "= :7000"]).count, 1, "the server never heard of the reset")
        XCTAssertEqual(try stopAndReport(proxy)["rst"], 1)
    }

    func testUnansweredKeepaliveProbesKillTheConnection() throws {
        let server = try startServer()
        defer { server.stop() }
        let proxy = try startFaultProxy(["--drop", "keepalive", "--target", "7000"])
        defer { proxy.stop() }
        // Probes after 1 s idle, every 1 s, 3 of them: dead at 1 + 3×1 s; the client notices on its first write.
        let (status, report, stderr) = try client(["--keepalive", "1,1,3", "--hold", "6s"])
        XCTAssertEqual(status, 4, stderr)
        XCTAssertEqual(report["error"] as? String, "ETIMEDOUT")
        XCTAssertEqual(try stopAndReport(proxy)["keepalive"], 3)
    }

    func testBlackHoleTimesOutAndOtherPortsAreUntouched() throws {
        let server = try startServer()
        defer { server.stop() }
        let other = try startServer(["--port", "7002"])
        defer { other.stop() }
        let proxy = try startFaultProxy(["--drop", "any", "--target", "7000"])
        defer { proxy.stop() }
        let untouched = try client(["--port", "7002", "--count", "5"])
        XCTAssertEqual(untouched.status, 0, "port 7002 is outside faultproxy's scope")
        let (status, report, _) = try client(["--port", "7000"])
        XCTAssertEqual(status, 2)
        XCTAssertEqual(report["error"] as? String, "ETIMEDOUT")
        XCTAssertGreaterThanOrEqual(try stopAndReport(proxy)["any"] ?? 0, try synSchedule().transmissions)
    }
}
