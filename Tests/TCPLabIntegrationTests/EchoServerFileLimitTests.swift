import Foundation
import TCPLab
import XCTest

/// echo-server at its open-file limit (`--max-files`): accept() fails with EMFILE, the server
/// reports it once, sleeps instead of spinning, and serves the queue when descriptors free up.
final class EchoServerFileLimitTests: XCTestCase {
    var lab: LabNamespace!

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        lab = try LabNamespace(prefix: "tcplab-nofile")
    }

    override func tearDown() { lab?.delete() }

    func events(_ server: LabProcess, _ name: String) -> [[String: Any]] {
        server.standardOutput.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }.filter { $0["event"] as? String == name }
    }

    func testAcceptAtTheLimitReportsEMFILEOnceSleepsAndRecovers() throws {
        let server = try lab.spawn([try LabBinaries.path("echo-server"), "--json", "--backlog", "4", "--max-files", "12"])
        defer { server.stop() }
        try server.awaitListening()
        let listening = try XCTUnwrap(events(server, "listening").first)
        XCTAssertEqual(listening["max_files"] as? Int, 12)
        let free = try XCTUnwrap(listening["free_files"] as? Int, "\(listening)")
        XCTAssertGreaterThan(free, 0)

        // One python3 process: `free` connections are served, two more wait in the accept queue;
        // the server's CPU time over a second at the limit; then one served connection closes.
        let script = """
        import socket, sys, time
        free, pid = int(sys.argv[1]), sys.argv[2]
        def cpu():
            fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        def echoed(c, wait):
            c.settimeout(wait)
            try: return c.recv(16) != b""
            except socket.timeout: return False
        conns = [socket.create_connection(("127.0.0.1", 7000), timeout=5) for _ in range(free + 2)]
        for i, c in enumerate(conns): c.sendall(b"%d" % i)
        served = sum(echoed(c, 2) for c in conns[:free])
        waiting = sum(echoed(c, 0.3) for c in conns[free:])
        before = cpu(); time.sleep(1.0); ticks = cpu() - before
        conns[0].close()
        late = echoed(conns[free], 3) + echoed(conns[free + 1], 0.3)
        print(served, waiting, ticks, late)
        """
        let result = try lab.run(["python3", "-c", script, String(free), String(server.pid)], timeout: 30)
        let numbers = result.standardOutput.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        XCTAssertEqual(numbers.count, 4, result.standardOutput + result.standardError)
        guard numbers.count == 4 else { return }
        XCTAssertEqual(numbers[0], free, "connections served up to the limit")
        XCTAssertEqual(numbers[1], 0, "beyond the limit the handshake completes but nothing is echoed")
        XCTAssertLessThanOrEqual(numbers[2], 5, "server CPU ticks (USER_HZ) over 1 s at the limit: it must not spin")
        XCTAssertEqual(numbers[3], 1, "one freed descriptor serves exactly one waiting connection")

        let errors = events(server, "error")
        XCTAssertEqual(errors.count, 1, server.standardOutput)
        XCTAssertEqual(errors.first?["error"] as? String, "EMFILE")
        XCTAssertEqual(errors.first?["call"] as? String, "accept4")
        XCTAssertTrue(server.isRunning, "the server survives EMFILE")
        // The python3 process exited: every descriptor is free, the queue drains, the episode ends.
        XCTAssertTrue(server.waitForOutput(timeout: 5) { $0.contains("\"event\":\"resumed\"") }, server.standardOutput)
        XCTAssertEqual(events(server, "accepted").count, free + 2)
        XCTAssertEqual(events(server, "error").count, 1, "still one report for the whole episode")
    }

    func testHelpDocumentsTheLimitAndTheEpisode() throws {
        let help = try lab.run([try LabBinaries.path("echo-server"), "--help"], timeout: 10).standardOutput
        for text in ["--max-files <N>", "EMFILE", "resumed"] {
            XCTAssertTrue(help.contains(text), "echo-server --help lacks \(text)")
        }
    }

    func testMaxFilesMustBePositive() throws {
        let result = try lab.run([try LabBinaries.path("echo-server"), "--max-files", "0"], timeout: 10, check: false)
        XCTAssertEqual(result.status, 64, result.standardError)
        XCTAssertTrue(result.standardError.contains("--max-files"), result.standardError)
    }
}
