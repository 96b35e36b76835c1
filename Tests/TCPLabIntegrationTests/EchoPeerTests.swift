import Foundation
import TCPLab
import XCTest

/// echo-server and echo-client on the real kernel, each test in a namespace of its own.
final class EchoPeerTests: XCTestCase {
    var lab: LabNamespace!

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        lab = try LabNamespace(prefix: "tcplab-echo")
    }

    override func tearDown() {
        lab?.delete()
    }

    private func startServer(_ arguments: [String]) throws -> LabProcess {
        let server = try lab.spawn([try LabBinaries.path("echo-server"), "--json"] + arguments)
        XCTAssertTrue(server.waitForOutput(timeout: 10) { $0.contains("\"listening\"") }, "server did not start: \(server.standardError)")
        return server
    }

    private func client(_ arguments: [String], timeout: Double = 30) throws -> (status: Int32, report: [String: Any], stderr: String) {
        let result = try lab.run([try LabBinaries.path("echo-client"), "--json"] + arguments, timeout: timeout, check: false)
        let line = result.standardOutput.split(separator: "\n").last.map(String.init) ?? "{}"
        let report = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        return (result.status, report, result.standardError)
    }

    func testEchoRoundTripsOverIPv4() throws {
        let server = try startServer([])
        defer { server.stop() }
        let (status, report, _) = try client(["--bytes", "200000", "--count", "3", "--connections", "2"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(report["echo_ok"] as? Bool, true)
        XCTAssertEqual(report["bytes"] as? Int, 600_000)
        XCTAssertEqual(report["connections"] as? Int, 2)
        XCTAssertTrue(report["error"] is NSNull)
        let info = try XCTUnwrap(report["tcp_info"] as? [String: Any])
        XCTAssertEqual(info["state"] as? String, "ESTABLISHED")
        XCTAssertGreaterThan(info["rto_us"] as? Int ?? 0, 0)
    }

    func testEchoRoundTripsOverIPv6() throws {
        let server = try startServer(["--host", "::1", "--port", "7100"])
        defer { server.stop() }
        let (status, report, _) = try client(["--host", "::1", "--port", "7100", "--message", "over six"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(report["bytes"] as? Int, 8)
        XCTAssertTrue((report["local"] as? String ?? "").hasPrefix("[::1]:"))
        XCTAssertTrue(server.waitForOutput(timeout: 5) { $0.contains("\"closed\"") })
        XCTAssertTrue(server.standardOutput.contains("\"peer\":\"[::1]:"))
    }

    func testClosedPortIsRefusedWithTheDocumentedStatus() throws {
        let (status, report, stderr) = try client(["--port", "7999"])
        XCTAssertEqual(status, 2, "connect failures exit 2")
        XCTAssertEqual(report["error"] as? String, "ECONNREFUSED")
        XCTAssertEqual(report["echo_ok"] as? Bool, false)
        XCTAssertTrue(stderr.contains("connect 127.0.0.1:7999: Connection refused (ECONNREFUSED) after "), stderr)
    }

    func testConnectTimeoutFiresWhenNothingAnswers() throws {
        // Every SYN to the port vanishes (a blackhole route in the namespace), so only --connect-timeout ends it.
        try lab.run(["ip", "route", "add", "blackhole", "10.99.0.1/32"])
        let started = Date()
        let (status, report, stderr) = try client(["--host", "10.99.0.1", "--connect-timeout", "300ms"])
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(status, 2)
        // A blackhole route refuses at once (EINVAL) on some kernels; a timeout is ETIMEDOUT. Either way: a connect failure, quickly.
        XCTAssertNotNil(report["error"] as? String)
        XCTAssertLessThan(elapsed, 5, stderr)
    }

    func testCloseNeverLeavesTheServerInCloseWait() throws {
        let server = try startServer(["--close", "never"])
        defer { server.stop() }
        let (status, _, _) = try client(["--connections", "3"])
        XCTAssertEqual(status, 0)
        // The client's FINs were acknowledged by the kernel; the server application never closed.
        var closeWait = 0
        for _ in 0..<50 {
            let ss = try lab.run(["ss", "-Htan", "state", "close-wait", "sport", "= :7000"]).standardOutput
            closeWait = ss.split(separator: "\n").count
            if closeWait == 3 { break }
            usleep(20_000)
        }
        XCTAssertEqual(closeWait, 3, "three server sockets should sit in CLOSE_WAIT")
        // The clients, having closed first, wait in FIN_WAIT2.
        let finWait = try lab.run(["ss", "-Htan", "state", "fin-wait-2", "dport", "= :7000"]).standardOutput
        XCTAssertEqual(finWait.split(separator: "\n").count, 3)
    }

    func testServerLingerResetMakesTheClientSeeECONNRESET() throws {
        let server = try startServer(["--close", "first", "--linger-reset"])
        defer { server.stop() }
        let (status, report, stderr) = try client(["--count", "3"])
        XCTAssertEqual(status, 4, "a broken connection exits 4: \(stderr)")
        XCTAssertEqual(report["error"] as? String, "ECONNRESET")
        XCTAssertTrue(server.waitForOutput(timeout: 5) { $0.contains("\"how\":\"reset\"") })
    }

    func testClientLingerResetMakesTheServerSeeECONNRESET() throws {
        let server = try startServer([])
        defer { server.stop() }
        let (status, _, _) = try client(["--linger-reset"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(server.waitForOutput(timeout: 5) { $0.contains("\"error\":\"ECONNRESET\"") }, server.standardOutput)
        // No TIME_WAIT anywhere: the RST skipped it.
        let timeWait = try lab.run(["ss", "-Htan", "state", "time-wait"]).standardOutput
        XCTAssertEqual(timeWait.trimmingCharacters(in: .whitespacesAndNewlines), "")
    }

    func testKeepaliveShowsAsTheSocketsTimer() throws {
        let server = try startServer(["--keepalive", "7,2,4"])
        defer { server.stop() }
        let client = try lab.spawn([try LabBinaries.path("echo-client"), "--keepalive", "5,1,3", "--hold", "3s"])
        defer { client.stop() }
        // Both ends established; ss shows each socket's keepalive timer and its remaining time.
        var clientLine = "", serverLine = ""
        for _ in 0..<100 {
            clientLine = try lab.run(["ss", "-Htano", "state", "established", "dport", "= :7000"]).standardOutput
            serverLine = try lab.run(["ss", "-Htano", "state", "established", "sport", "= :7000"]).standardOutput
            if clientLine.contains("keepalive"), serverLine.contains("keepalive") { break }
            usleep(20_000)
        }
        let clientSeconds = try XCTUnwrap(Self.keepaliveSeconds(clientLine), "client: \(clientLine)")
        let serverSeconds = try XCTUnwrap(Self.keepaliveSeconds(serverLine), "server: \(serverLine)")
        // The remaining time is at most the idle time set (a tick of slack), and far below the 7200 s default.
        XCTAssertLessThanOrEqual(clientSeconds, 5.004)
        XCTAssertGreaterThan(clientSeconds, 3.0)
        XCTAssertLessThanOrEqual(serverSeconds, 7.004)
        XCTAssertGreaterThan(serverSeconds, 5.0)
    }

    /// "timer:(keepalive,4.996s,0)" → 4.996; "timer:(keepalive,1min39s,0)" style values are not expected here.
    static func keepaliveSeconds(_ line: String) -> Double? {
        guard let range = line.range(of: "timer:(keepalive,") else { return nil }
        let rest = line[range.upperBound...]
        guard let end = rest.firstIndex(of: ",") else { return nil }
        var value = String(rest[..<end])
        var scale = 1.0
        if value.hasSuffix("ms") { value.removeLast(2); scale = 0.001 } else if value.hasSuffix("sec") { value.removeLast(3) } else if value.hasSuffix("s") { value.removeLast() }
        return Double(value).map { $0 * scale }
    }
}
