import Foundation
import TCPLab
import XCTest

/// The rest of the echo peers' knobs, each against what the kernel shows.
final class EchoKnobTests: XCTestCase {
    var lab: LabNamespace!

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        lab = try LabNamespace(prefix: "tcplab-knob")
    }

    override func tearDown() { lab?.delete() }

    func server(_ arguments: [String]) throws -> LabProcess {
        try lab.startEchoServer(arguments)
    }

    func client(_ arguments: [String], timeout: Double = 30) throws -> CommandRunner.Result {
        try lab.run([try LabBinaries.path("echo-client"), "--json"] + arguments, timeout: timeout, check: false)
    }

    func report(_ result: CommandRunner.Result) throws -> [String: Any] {
        let line = result.standardOutput.split(separator: "\n").last.map(String.init) ?? "{}"
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
    }

    func testAcceptNeverFillsTheBacklogAndTheKernelStillCompletesHandshakes() throws {
        let server = try server(["--accept", "never", "--backlog", "2"])
        defer { server.stop() }
        // Three clients connect and idle: the kernel completes handshakes into the accept queue
        // (backlog 2 holds up to 3 on Linux: the check is "more than backlog").
        var clients: [LabProcess] = []
        defer { clients.forEach { $0.stop() } }
        for _ in 0..<3 {
            clients.append(try lab.spawn([try LabBinaries.path("echo-client"), "--hold", "5s", "--connect-timeout", "4s"]))
        }
        var listener = ""
        for _ in 0..<100 {
            listener = try lab.run(["ss", "-Hltn", "sport", "= :7000"]).standardOutput
            if listener.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "3" { break }
            usleep(20_000)
        }
        // ss -l: Recv-Q is the accept queue's length, Send-Q the backlog.
        let columns = listener.split(separator: " ", omittingEmptySubsequences: true)
        XCTAssertEqual(columns.dropFirst().first, "3", listener)
        XCTAssertEqual(columns.dropFirst(2).first, "2", listener)
        XCTAssertFalse(server.standardOutput.contains("\"accepted\""), "the server never accepts")
    }

    func testAcceptDelayAcceptsOnlyAfterTheDelay() throws {
        let started = Date()
        let server = try server(["--accept-delay", "1s"])
        defer { server.stop() }
        let result = try client([])
        XCTAssertEqual(result.status, 0, result.standardError)
        // connect() completes at once (the kernel's handshake), the echo waits for accept().
        let report = try report(result)
        XCTAssertLessThan(report["connect_ms"] as? Double ?? 1e9, 100)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.0)
        XCTAssertGreaterThanOrEqual(report["elapsed_ms"] as? Double ?? 0, 500)
    }

    func testShutdownWriteHalfClosesAndStillReads() throws {
        // The server half-closes right after its first echo but keeps reading; the client's
        // second message is still received (and cannot be echoed: the server's side is shut).
        let server = try server(["--close", "first", "--shutdown-write"])
        defer { server.stop() }
        let result = try client(["--close", "wait-peer"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(server.waitForOutput(timeout: 5) { $0.contains("\"event\":\"shutdown\"") }, server.standardOutput)
        XCTAssertTrue(server.waitForOutput(timeout: 5) { $0.contains("\"how\":\"shutdown\"") }, server.standardOutput)
        // The server closed second: the client, which saw the FIN first... is the passive closer here, so no TIME_WAIT on its port.
        let timeWait = try lab.run(["ss", "-Htan", "state", "time-wait"]).standardOutput
        XCTAssertTrue(timeWait.contains("127.0.0.1:7000 "), "the server closed first (shutdown), so TIME_WAIT is on the server's side: \(timeWait)")
    }

    func testNoReuseaddrCannotRebindWhileTimeWaitHoldsThePort() throws {
        // The server closes first, so TIME_WAIT sits on 127.0.0.1:7000.
        let first = try server(["--close", "first"])
        let result = try client(["--close", "wait-peer"])
        XCTAssertEqual(result.status, 0, result.standardError)
        first.stop()
        let refused = try lab.run([try LabBinaries.path("echo-server"), "--no-reuseaddr"], timeout: 10, check: false)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.standardError.contains("bind 127.0.0.1:7000: Address already in use (EADDRINUSE)"), refused.standardError)
        let again = try server([])  // SO_REUSEADDR (the default) binds despite TIME_WAIT
        again.stop()
    }

    func testBindFixesTheSourcePort() throws {
        let server = try server([])
        defer { server.stop() }
        let result = try client(["--bind", "127.0.0.1:45678"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(try report(result)["local"] as? String, "127.0.0.1:45678")
        // The client closed first: its TIME_WAIT now holds that 4-tuple, so the same bind fails.
        let again = try client(["--bind", "45678"])
        XCTAssertEqual(again.status, 1, again.standardError)
        XCTAssertTrue(again.standardError.contains("(EADDRINUSE)"), again.standardError)
    }

    func testClientCloseNeverHoldsTheConnectionUntilSignalled() throws {
        let server = try server(["--close", "first"])
        defer { server.stop() }
        let client = try lab.spawn([try LabBinaries.path("echo-client"), "--close", "never"])
        defer { client.stop() }
        var states = ""
        for _ in 0..<100 {
            states = try lab.run(["ss", "-Htan", "dport", "= :7000"]).standardOutput
            if states.hasPrefix("CLOSE-WAIT") { break }
            usleep(20_000)
        }
        XCTAssertTrue(states.hasPrefix("CLOSE-WAIT"), "the server closed, the client never does: \(states)")
        XCTAssertTrue(client.isRunning)
        client.signal(SIGTERM)
        XCTAssertNotNil(client.wait(timeout: 5))
    }

    func testServerHoldsAThousandConcurrentConnections() throws {
        let server = try server([])
        defer { server.stop() }
        // A bounded python3 client opens 1000 connections, keeps them all open, then echoes on each.
        let script = """
        import socket, resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
        conns = [socket.create_connection(("127.0.0.1", 7000), timeout=10) for _ in range(1000)]
        for i, c in enumerate(conns): c.sendall(b"%d" % i)
        ok = sum(1 for i, c in enumerate(conns) if c.recv(16) == b"%d" % i)
        print(ok)
        """
        let result = try lab.run(["python3", "-c", script], timeout: 60)
        XCTAssertEqual(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines), "1000")
        XCTAssertEqual(server.standardOutput.components(separatedBy: "\"accepted\"").count - 1, 1000)
    }
}
