import Foundation
import TCPLab
import XCTest

/// `tcplab run` as a person uses it: JSON reports and pcaps, and Ctrl-C in the middle of a lab
/// leaving no namespace and no process behind.
final class RunCommandTests: XCTestCase {
    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
    }

    func testJSONReportAndPcap() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tcplab-run-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try CommandRunner.run([try LabBinaries.path("tcplab"), "run", "handshake", "--json", "--pcap", directory],
                                           timeout: 60, check: false)
        XCTAssertEqual(result.status, 0, result.standardError)
        let reports = try result.standardOutput.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(reports.count, 1, "one JSON line per lab")
        XCTAssertEqual(reports.first?["name"] as? String, "handshake")
        XCTAssertEqual(reports.first?["status"] as? String, "PASS")
        let checks = try XCTUnwrap(reports.first?["checks"] as? [[String: Any]])
        XCTAssertFalse(checks.isEmpty)
        XCTAssertTrue(checks.allSatisfy { $0["passed"] as? Bool == true })
        let pcaps = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".pcap") }
        XCTAssertEqual(pcaps, ["handshake-1.pcap"])
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: directory + "/handshake-1.pcap"))
        // Microsecond pcap magic (little-endian), then at least the two connections' segments.
        XCTAssertEqual(Array(bytes.prefix(4)), [0xD4, 0xC3, 0xB2, 0xA1])
        XCTAssertGreaterThan(bytes.count, 24 + 10 * 16)
    }

    func testInterruptRemovesTheLabAndItsProcesses() throws {
        let before = Set(try namespaces())
        // syn-lost runs for seconds (SYNs dropped until ETIMEDOUT): long enough to interrupt.
        let run = try LabProcess([try LabBinaries.path("tcplab"), "run", "syn-lost"])
        defer { run.stop() }
        var created: [String] = []
        var pids: [Int32] = []
        // Bounded: 10 s for the lab's namespace and its faultproxy to appear.
        for _ in 0..<200 {
            created = try namespaces().filter { !before.contains($0) && $0.hasPrefix("tcplab-syn-lost") }
            if let name = created.first {
                pids = try CommandRunner.run(["ip", "netns", "pids", name], check: false).standardOutput
                    .split(separator: "\n").compactMap { Int32($0) }
                if pids.count >= 2 { break }
            }
            usleep(50_000)
        }
        XCTAssertEqual(created.count, 1, "the lab's namespace: \(run.standardError)")
        XCTAssertGreaterThanOrEqual(pids.count, 2, "echo-server and faultproxy inside it")
        run.signal(SIGINT)
        XCTAssertEqual(run.wait(timeout: 15), 130, run.standardError)
        XCTAssertTrue(run.standardError.contains("interrupted"), run.standardError)
        XCTAssertEqual(try namespaces().filter { created.contains($0) }, [], "the namespace is deleted")
        // Bounded: the processes inside die with their namespace's deletion (SIGKILL), give them 2 s.
        var alive: [Int32] = pids
        for _ in 0..<40 where !alive.isEmpty {
            alive = alive.filter(Self.isRunning)
            usleep(50_000)
        }
        XCTAssertEqual(alive, [], "every process the lab started is gone")
    }

    private func namespaces() throws -> [String] {
        try CommandRunner.run(["ip", "netns", "list"]).standardOutput.split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// Alive and not a zombie waiting for a reaper.
    private static func isRunning(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        return !status.contains("State:\tZ")
    }
}

/// `tcplab run --ladder` and `--report`: the pictures and pages a run writes as it goes.
final class RunCommandPictureTests: XCTestCase {
    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
    }

    func testLadderFilesAndReport() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tcplab-pictures-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tcplab = try LabBinaries.path("tcplab")
        let run = try CommandRunner.run([tcplab, "run", "handshake", "--ladder", "svg=\(directory)/svg", "--report", "\(directory)/report"],
                                        timeout: 60, check: false)
        XCTAssertEqual(run.status, 0, run.standardError)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/svg"), ["handshake-1.svg"])
        let svg = try String(contentsOfFile: "\(directory)/svg/handshake-1.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(run.standardOutput.contains("S seq 0 syn ─"), "with =DIR the text report keeps its text ladder")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/report").sorted(), ["handshake.html", "index.html"])
        XCTAssertTrue(run.standardError.contains("report in \(directory)/report/index.html"), run.standardError)

        let mermaid = try CommandRunner.run([tcplab, "run", "handshake", "--ladder", "mermaid"], timeout: 60, check: false)
        XCTAssertEqual(mermaid.status, 0, mermaid.standardError)
        XCTAssertTrue(mermaid.standardOutput.contains("sequenceDiagram\n    participant C as client 127.0.0.1:40000"), mermaid.standardOutput)
        XCTAssertFalse(mermaid.standardOutput.contains("S seq 0 syn ─"), "the Mermaid diagram takes the text ladder's place")

        let bad = try CommandRunner.run([tcplab, "run", "handshake", "--ladder", "png"], check: false)
        XCTAssertEqual(bad.status, 64, bad.standardError)
    }
}
