import Foundation
import TCPLab
import XCTest

/// The built echo binaries' command lines: help for every flag, one-line errors and exit statuses.
/// No sockets are opened: every case fails validation before it would.
final class EchoCommandLineTests: XCTestCase {
    private func run(_ tool: String, _ arguments: [String]) throws -> CommandRunner.Result {
        try CommandRunner.run([try LabBinaries.path(tool)] + arguments, timeout: 20, check: false)
    }

    func testServerHelpDocumentsEveryKnob() throws {
        let help = try run("echo-server", ["--help"]).standardOutput
        for flag in ["--host", "--port", "--backlog", "--accept ", "--accept-delay", "--close", "--shutdown-write",
                     "--linger-reset", "--keepalive", "--reuseaddr/--no-reuseaddr", "--json", "after:DURATION"] {
            XCTAssertTrue(help.contains(flag), "echo-server --help lacks \(flag)")
        }
    }

    func testClientHelpDocumentsEveryKnob() throws {
        let help = try run("echo-client", ["--help"]).standardOutput
        for flag in ["--host", "--port", "--message", "--bytes", "--count", "--connections", "--bind", "--connect-timeout",
                     "--keepalive", "--linger-reset", "--hold", "--close", "--json", "wait-peer", "Exit status"] {
            XCTAssertTrue(help.contains(flag), "echo-client --help lacks \(flag)")
        }
    }

    func testBadInputIsOneClearLineAndAUsageStatus() throws {
        let cases: [(String, [String], String)] = [
            ("echo-server", ["--port", "70000"], "--port 70000 is out of range 1-65535"),
            ("echo-server", ["--close", "sometimes"], "--close"),
            ("echo-server", ["--close", "after:soon"], "--close"),
            ("echo-server", ["--keepalive", "1,1"], "--keepalive"),
            ("echo-server", ["--accept", "never", "--accept-delay", "1s"], "--accept-delay has no effect"),
            ("echo-server", ["--host", "not-an-ip"], "not a numeric IPv4 or IPv6 address"),
            ("echo-client", ["--port", "0"], "--port 0 is out of range"),
            ("echo-client", ["--message", "a", "--bytes", "3"], "not both"),
            ("echo-client", ["--bytes", "0"], "--bytes must be at least 1"),
            ("echo-client", ["--connections", "0"], "--connections must be at least 1"),
            ("echo-client", ["--connect-timeout", "-1s"], "--connect-timeout"),
            ("echo-client", ["--close", "later"], "--close"),
            ("echo-client", ["--bind", "::1:80"], "[ADDR]:PORT"),
        ]
        for (tool, arguments, expected) in cases {
            let result = try run(tool, arguments)
            XCTAssertEqual(result.status, 64, "\(tool) \(arguments) should exit with EX_USAGE (64)")
            XCTAssertTrue(result.standardError.contains(expected), "\(tool) \(arguments): \(result.standardError)")
            XCTAssertTrue(result.standardError.hasPrefix("Error: "), result.standardError)
        }
    }
}
