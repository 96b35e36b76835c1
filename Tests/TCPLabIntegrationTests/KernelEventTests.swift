import Foundation
import TCPLab
import XCTest

/// The kernel's own tracepoints in faultproxy's timeline: every state both ends pass through,
/// short ones too, and retransmissions on NFLOG's clock.
final class KernelEventTests: WitnessedNamespaceTestCase {
    override class var prefix: String { "tcplab-trace" }

    private func timeline(_ arguments: [String], client: [String], port: UInt16 = 7000) throws -> [[String: Any]] {
        let server = try lab.startEchoServer(["--port", "\(port)"])
        defer { server.stop() }
        let proxy = try lab.spawn([try LabBinaries.path("faultproxy"), "--target", "\(port)", "--timeline", "json"] + arguments)
        defer { proxy.stop() }
        try proxy.awaitRulesInstalled()
        guard !proxy.standardError.contains("no kernel tracepoints") else { throw XCTSkip(proxy.standardError) }
        let result = try lab.run([try LabBinaries.path("echo-client"), "--port", "\(port)"] + client, timeout: 30, check: false)
        XCTAssertEqual(result.status, 0, result.standardError)
        usleep(600_000)
        proxy.signal(SIGINT)
        XCTAssertEqual(proxy.wait(timeout: 10), 0, proxy.standardError)
        XCTAssertFalse(try Self.traceInstances().contains { $0.hasPrefix("tcplab_\(proxy.pid)_") }, "the trace instance is removed at exit")
        return try proxy.standardOutput.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testEveryStateOfATeardownAndTheRetransmissionOnNFLOGsClock() throws {
        let lines = try timeline(["--drop", "fin:1"], client: [])
        let kernel = lines.filter { $0["type"] as? String == "kernel" }
        func path(_ side: String) -> [String] {
            kernel.filter { $0["side"] as? String == side && $0["event"] as? String == "inet_sock_set_state" }.compactMap { $0["new_state"] as? String }
        }
        // The short states sock_diag's 5 ms poll misses, each at the tracepoint's time.
        XCTAssertEqual(path("client").suffix(3), ["FIN_WAIT1", "FIN_WAIT2", "CLOSED"], "\(path("client"))")
        XCTAssertEqual(path("server").suffix(3), ["CLOSE_WAIT", "LAST_ACK", "CLOSED"], "\(path("server"))")
        // The kernel's word that the FIN was sent again, within 1 ms of the NFLOG record of that FIN.
        let retransmit = try XCTUnwrap(kernel.first { $0["event"] as? String == "tcp_retransmit_skb" }, "\(kernel)")
        let fin = try XCTUnwrap(lines.first { $0["type"] as? String == "segment" && $0["kind"] as? String == "fin" && $0["fate"] as? String == "passed" })
        let apart = abs(((retransmit["unix_us"] as? NSNumber)?.int64Value ?? 0) - ((fin["unix_us"] as? NSNumber)?.int64Value ?? 0))
        print("tcp_retransmit_skb vs the NFLOG record of the retransmitted FIN: \(apart) µs apart")
        XCTAssertEqual(retransmit["side"] as? String, "client")
        XCTAssertLessThan(apart, 1000)
    }

    func testAResetIsTheKernelsWordToo() throws {
        let lines = try timeline([], client: ["--linger-reset"], port: 7002)
        let events = lines.filter { $0["type"] as? String == "kernel" }.compactMap { $0["event"] as? String }
        XCTAssertTrue(events.contains("tcp_send_reset") || events.contains("tcp_receive_reset"), "\(events)")
    }

    /// A trace instance outlives a SIGKILLed run: `--cleanup` (and the next run) removes it by the PID in its name.
    func testAKilledRunsTraceInstanceIsRemoved() throws {
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let stale = "tcplab_\(gone.processIdentifier)_7003_1"
        let path = "/sys/kernel/tracing/instances/\(stale)"
        guard mkdir(path, 0o700) == 0 else { throw XCTSkip("cannot make a trace instance here (errno \(errno))") }
        defer { rmdir(path) }
        let cleanup = try CommandRunner.run([try LabBinaries.path("faultproxy"), "--cleanup"])
        XCTAssertTrue(cleanup.standardOutput.contains("removed trace instance \(stale)"), cleanup.standardOutput)
        XCTAssertFalse(try Self.traceInstances().contains(stale))
    }

    private static func traceInstances() throws -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "/sys/kernel/tracing/instances")) ?? []
    }
}
