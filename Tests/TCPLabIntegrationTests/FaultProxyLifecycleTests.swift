import Foundation
import TCPLab
import XCTest

/// faultproxy leaves nothing behind: not after a normal exit, SIGINT, SIGTERM or SIGKILL, and
/// `--cleanup`, `--list`, `--dry-run` and bad input behave.
final class FaultProxyLifecycleTests: XCTestCase {
    var lab: LabNamespace!

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        lab = try LabNamespace(prefix: "tcplab-life")
    }

    override func tearDown() { lab?.delete() }

    func tables() throws -> String { try lab.run(["nft", "list", "tables"]).standardOutput }

    func start(_ extra: [String] = []) throws -> LabProcess {
        let proxy = try lab.spawn([try LabBinaries.path("faultproxy"), "--drop", "synack", "--target", "7000"] + extra)
        try proxy.awaitRulesInstalled()
        XCTAssertTrue(try tables().contains("faultproxy_\(try childPID(of: proxy))"))
        return proxy
    }

    /// env and `ip netns exec` both exec, so the process we started is faultproxy itself,
    /// and its table is named after that pid.
    func childPID(of process: LabProcess) throws -> Int32 {
        let command = try String(contentsOfFile: "/proc/\(process.pid)/cmdline", encoding: .utf8)
        XCTAssertTrue(command.contains("faultproxy"), command)
        return process.pid
    }

    func testEveryWayOfStoppingRemovesTheTable() throws {
        for signal in [SIGINT, SIGTERM, SIGKILL] {
            let proxy = try start()
            let pid = try childPID(of: proxy)
            kill(pid, signal)
            XCTAssertNotNil(proxy.wait(timeout: 10), "faultproxy did not exit on signal \(signal)")
            XCTAssertEqual(try tables(), "", "a table survived signal \(signal)")
        }
        let timed = try lab.spawn([try LabBinaries.path("faultproxy"), "--drop", "syn", "--target", "7000", "--for", "300ms"])
        XCTAssertEqual(timed.wait(timeout: 10), 0, timed.standardError)
        XCTAssertTrue(timed.standardError.contains("dropped 0 syn"), timed.standardError)
        XCTAssertEqual(try tables(), "")
    }

    func testCleanupRemovesATableWhoseProcessIsGone() throws {
        // What a kernel without owner tables leaves after a crash: a plain table with our name.
        try lab.run(["nft", "add", "table", "inet", "faultproxy_999999"])
        try lab.run(["nft", "add", "table", "inet", "someone_elses"])
        let listed = try lab.run([try LabBinaries.path("faultproxy"), "--list"]).standardOutput
        XCTAssertTrue(listed.contains("faultproxy_999999 — pid 999999 (gone)"), listed)
        let cleaned = try lab.run([try LabBinaries.path("faultproxy"), "--cleanup"]).standardOutput
        XCTAssertTrue(cleaned.contains("removed table inet faultproxy_999999"), cleaned)
        XCTAssertEqual(try tables().trimmingCharacters(in: .whitespacesAndNewlines), "table inet someone_elses")
    }

    func testDryRunTouchesNothing() throws {
        let result = try lab.run([try LabBinaries.path("faultproxy"), "--drop", "synack:2", "--dry-run"])
        XCTAssertTrue(result.standardOutput.hasPrefix("table inet faultproxy_"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("comment \"drop synack"), result.standardOutput)
        XCTAssertEqual(try tables(), "")
    }

    func testBadInputIsOneLineBeforeAnythingIsInstalled() throws {
        let cases: [([String], String)] = [
            (["--drop", "synak"], "unknown segment 'synak'; valid: syn, synack"),
            (["--drop", "syn:0"], "syn:0"),
            (["--drop", "data%2"], "data%2"),
            (["--target", "70000", "--drop", "syn"], "out of range"),
            (["--listen", "127.0.0.1:7000", "--drop", "syn"], "the relay would connect to itself"),
            ([], "nothing to do"),
        ]
        for (arguments, expected) in cases {
            let result = try lab.run([try LabBinaries.path("faultproxy")] + arguments, check: false)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.standardError)")
            XCTAssertTrue(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
        }
        XCTAssertEqual(try tables(), "")
    }

    func testWithoutCapNetAdminItSaysSoAndHowToGetIt() throws {
        // An unprivileged user (nobody) inside the lab namespace; it must be able to reach the binary.
        let nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        let faultproxy = try LabBinaries.path("faultproxy")
        guard try lab.run(nobody + ["test", "-x", faultproxy], check: false).succeeded else {
            throw XCTSkip("user nobody cannot execute \(faultproxy) (a parent folder is private)")
        }
        let result = try lab.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  try LabBinaries.path("faultproxy"), "--drop", "syn", "--target", "7000"], check: false)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.standardError.contains("needs CAP_NET_ADMIN: run as root (sudo) or grant it (setcap cap_net_admin+ep"), result.standardError)
        XCTAssertEqual(try tables(), "")
    }

    func testMissingNamespaceIsNamed() throws {
        let result = try CommandRunner.run([try LabBinaries.path("faultproxy"), "--drop", "syn", "--netns", "tcplab-no-such-ns"], check: false)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.standardError.contains("tcplab-no-such-ns"), result.standardError)
        XCTAssertTrue(result.standardError.contains("No such file or directory (ENOENT)"), result.standardError)
    }
}
