import Foundation
import TCPLab
import XCTest

/// `tcplab watch`: any port's timeline and states, no fault, nothing left behind.
final class WatchCommandTests: XCTestCase {
    func testWatchShowsAConnectionWithoutTouchingIt() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        let lab = try LabNamespace(prefix: "tcplab-watch")
        defer { lab.delete() }
        let server = try lab.spawn([try LabBinaries.path("echo-server")])
        defer { server.stop() }
        let watch = try LabProcess([try LabBinaries.path("tcplab"), "watch", "--port", "7000", "--netns", lab.name, "--format", "json"])
        defer { watch.stop() }
        try watch.awaitRulesInstalled("tcplab watch")
        let client = try lab.run([try LabBinaries.path("echo-client")], check: false)
        XCTAssertEqual(client.status, 0, "the watch drops nothing: \(client.standardError)")
        usleep(200_000)
        watch.signal(SIGINT)
        XCTAssertEqual(watch.wait(timeout: 10), 0, watch.standardError)
        let lines = try watch.standardOutput.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let kinds = lines.filter { $0["type"] as? String == "segment" }.map { $0["kind"] as? String ?? "" }
        XCTAssertEqual(kinds, ["syn", "synack", "handshake-ack", "data", "ack", "data", "ack", "fin", "peer-fin", "last-ack"])
        XCTAssertTrue(lines.contains { $0["type"] as? String == "state" && $0["state"] as? String == "TIME_WAIT" })
        XCTAssertEqual(try lab.run(["nft", "list", "tables"]).standardOutput, "", "the log table is gone")
    }
}
