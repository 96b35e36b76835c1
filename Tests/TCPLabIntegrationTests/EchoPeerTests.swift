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
        try lab.startEchoServer(arguments)
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
        XCTAssertEqual(report["bytes"] as? Int, 1_200_000, "200000 bytes × 3 messages × 2 connections")
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
        // The clients, having closed first, wait in FIN_WAIT2. Orphaned, they live on as
        // TIME_WAIT mini-sockets with a FIN_WAIT2 substate, which `ss state fin-wait-2` misses
        // (the kernel filters them by TIME_WAIT): list everything and read the state column.
        // The server's kernel delays its ACK of each FIN (up to the 40 ms delayed-ACK timer), so poll.
        var clients: [Substring] = []
        for _ in 0..<50 {
            clients = try lab.run(["ss", "-Htan", "dport", "= :7000"]).standardOutput.split(separator: "\n")
            if clients.filter({ $0.hasPrefix("FIN-WAIT-2") }).count == 3 { break }
            usleep(20_000)
        }
        XCTAssertEqual(clients.filter { $0.hasPrefix("FIN-WAIT-2") }.count, 3, clients.joined(separator: "\n"))
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
        // Both ends established: /proc/net/tcp shows each socket's timer (2 = keepalive) and when it
        // expires (Documentation/networking/proc_net_tcp.rst); ss shows the same as timer:(keepalive,...).
        var timers: [(local: UInt16, timer: Int, seconds: Double)] = []
        for _ in 0..<100 {
            timers = try Self.procNetTCP(lab.run(["cat", "/proc/net/tcp"]).standardOutput).filter { $0.state == 1 }.map { ($0.local, $0.timer, $0.seconds) }
            if timers.count == 2, timers.allSatisfy({ $0.timer == 2 }) { break }
            usleep(20_000)
        }
        let serverTimer = try XCTUnwrap(timers.first { $0.local == 7000 }, "\(timers)")
        let clientTimer = try XCTUnwrap(timers.first { $0.local != 7000 }, "\(timers)")
        XCTAssertEqual(serverTimer.timer, 2, "keepalive timer on the server socket")
        XCTAssertEqual(clientTimer.timer, 2, "keepalive timer on the client socket")
        // The remaining time is at most the idle time set (plus a tick), far below the 7200 s default.
        XCTAssertLessThanOrEqual(clientTimer.seconds, 5.01)
        XCTAssertGreaterThan(clientTimer.seconds, 3.0)
        XCTAssertLessThanOrEqual(serverTimer.seconds, 7.01)
        XCTAssertGreaterThan(serverTimer.seconds, 5.0)
        let ss = try lab.run(["ss", "-Htano", "state", "established"]).standardOutput
        XCTAssertEqual(ss.components(separatedBy: "timer:(keepalive,").count - 1, 2, ss)
    }

    /// /proc/net/tcp rows: local port, state, timer kind and its remaining time (clock ticks of 1/100 s).
    static func procNetTCP(_ text: String) -> [(local: UInt16, state: Int, timer: Int, seconds: Double)] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 5 else { return nil }
            let local = fields[1].split(separator: ":")
            let timer = fields[5].split(separator: ":")
            guard local.count == 2, timer.count == 2, let port = UInt16(local[1], radix: 16), let state = Int(fields[3], radix: 16),
                  let kind = Int(timer[0], radix: 16), let ticks = Int(timer[1], radix: 16) else { return nil }
            return (port, state, kind, Double(ticks) / 100)
        }
    }
}
