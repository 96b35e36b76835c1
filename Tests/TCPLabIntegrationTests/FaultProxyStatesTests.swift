import Foundation
import TCPLab
import XCTest

/// Socket states from sock_diag in faultproxy's timeline, and faultproxy acting on a named namespace.
final class FaultProxyStatesTests: XCTestCase {
    var lab: LabNamespace!

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        lab = try LabNamespace(prefix: "tcplab-states")
    }

    override func tearDown() { lab?.delete() }

    /// Runs faultproxy from the host's namespace with `--netns`, a client inside, and returns the state lines.
    func states(proxyArguments: [String], serverArguments: [String], clientArguments: [String], settle: UInt32 = 300_000) throws -> [[String: Any]] {
        let server = try lab.spawn([try LabBinaries.path("echo-server")] + serverArguments)
        defer { server.stop() }
        let proxy = try LabProcess([try LabBinaries.path("faultproxy"), "--netns", lab.name, "--target", "7000", "--timeline", "json", "--states"] + proxyArguments)
        defer { proxy.stop() }
        try proxy.awaitRulesInstalled()
        // The table lives in the lab's namespace, not the host's.
        XCTAssertTrue(try lab.run(["nft", "list", "tables"]).standardOutput.contains("faultproxy_\(proxy.pid)"))
        XCTAssertFalse(try CommandRunner.run(["nft", "list", "tables"]).standardOutput.contains("faultproxy_\(proxy.pid)"))
        let client = try lab.run([try LabBinaries.path("echo-client")] + clientArguments, timeout: 30, check: false)
        XCTAssertEqual(client.status, 0, client.standardError)
        usleep(settle)
        proxy.signal(SIGTERM)
        XCTAssertEqual(proxy.wait(timeout: 10), 0, proxy.standardError)
        return try proxy.standardOutput.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["type"] as? String == "state" }
    }

    func testLostHandshakeAckShowsTheServerInSynRecvWithItsRetransmitTimer() throws {
        let lines = try states(proxyArguments: ["--drop", "handshake-ack"], serverArguments: [], clientArguments: ["--hold", "1.5s"])
        let synRecv = try XCTUnwrap(lines.first { $0["side"] as? String == "server" && $0["state"] as? String == "SYN_RECV" }, "\(lines)")
        XCTAssertEqual(synRecv["timer"] as? String, "retransmit timer")
        // The SYN-ACK timer starts at the initial RTO (1 s) and is sampled within a few ms.
        let expires = try XCTUnwrap(synRecv["expires_ms"] as? Int)
        XCTAssertLessThanOrEqual(expires, 1000)
        XCTAssertGreaterThan(expires, 900)
        // The data completes the handshake: the server leaves SYN_RECV (ESTABLISHED may last less
        // than a 5 ms poll before the client's close moves it on, so any later state counts).
        let later = ["ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"]
        XCTAssertTrue(lines.contains { $0["side"] as? String == "server" && later.contains($0["state"] as? String ?? "") }, "\(lines)")
    }

    func testCloseNeverShowsCloseWaitOnTheServerAndFinWait2OnTheClient() throws {
        let lines = try states(proxyArguments: [], serverArguments: ["--close", "never"], clientArguments: [])
        XCTAssertTrue(lines.contains { $0["side"] as? String == "server" && $0["state"] as? String == "CLOSE_WAIT" }, "\(lines)")
        let finWait2 = try XCTUnwrap(lines.first { $0["side"] as? String == "client" && $0["state"] as? String == "FIN_WAIT2" }, "\(lines)")
        // Orphaned FIN_WAIT2 waits tcp_fin_timeout on the time-wait timer.
        let finTimeout = try lab.sysctlInt("net.ipv4.tcp_fin_timeout")
        XCTAssertEqual(finWait2["timer"] as? String, "time-wait timer")
        XCTAssertEqual(Double(finWait2["expires_ms"] as? Int ?? 0) / 1000, Double(finTimeout), accuracy: 0.5)
    }
}
