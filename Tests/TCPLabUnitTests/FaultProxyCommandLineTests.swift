import Foundation
import TCPLab
import XCTest

/// The built faultproxy's refusals: one clear line and EX_USAGE (64), before any rule is
/// installed (every case fails in argument parsing or validation, so no root is needed; `--for 1s`
/// bounds a run that a regression would start).
final class FaultProxyCommandLineTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> CommandRunner.Result {
        try CommandRunner.run([try LabBinaries.path("faultproxy")] + arguments, timeout: 20, check: false)
    }

    func testBadInputIsOneClearLineAndAUsageStatus() throws {
        let cases: [([String], String)] = [
            // argument-parser names the unknown option (validate() used to answer "nothing to do" first).
            (["--bogus-flag"], "Error: Unknown option '--bogus-flag'"),
            (["--dorp", "synack"], "Error: Unknown option '--dorp'"),
            ([], "Error: nothing to do: give at least one --drop"),
            (["--delay", "synack=10ms~20ms", "--for", "1s"],
             "Error: 'synack=10ms~20ms': the jitter (20ms) is larger than the delay (10ms), so some waits would be below zero; give a jitter of at most 10ms"),
            (["--drop", "synack", "--for", "1s", "--pcap", "/nonexistent/dir/x.pcap"],
             "Error: --pcap: cannot write /nonexistent/dir/x.pcap: directory /nonexistent/dir does not exist"),
            (["--drop", "synack", "--for", "1s", "--pcap", "/"], "Error: --pcap: cannot write /: it is a directory"),
        ]
        for (arguments, expected) in cases {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 64, "faultproxy \(arguments) should exit with EX_USAGE (64): \(result.standardError)")
            let firstLine = result.standardError.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertTrue(firstLine.hasPrefix(expected), "faultproxy \(arguments): \(result.standardError)")
            XCTAssertFalse(result.standardError.contains("NSCocoaErrorDomain"), result.standardError)
        }
    }
}
