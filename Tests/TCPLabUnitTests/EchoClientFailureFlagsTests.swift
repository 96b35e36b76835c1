import Foundation
import TCPLab
import XCTest

/// echo-client's knobs for the dead-peer labs: TCP_USER_TIMEOUT, write-only sending, and a pause
/// between messages. Validation only: no sockets are opened.
final class EchoClientFailureFlagsTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> CommandRunner.Result {
        try CommandRunner.run([try LabBinaries.path("echo-client")] + arguments, timeout: 20, check: false)
    }

    func testHelpDocumentsTheFlags() throws {
        let help = try run(["--help"]).standardOutput
        for flag in ["--user-timeout", "TCP_USER_TIMEOUT", "--send-only", "--interval"] {
            XCTAssertTrue(help.contains(flag), "echo-client --help lacks \(flag)")
        }
    }

    func testUserTimeoutOutOfRangeIsAUsageError() throws {
        for value in ["0s", "500us", "600h"] {
            let result = try run(["--user-timeout", value])
            XCTAssertEqual(result.status, 64, "--user-timeout \(value): \(result.standardError)")
            XCTAssertTrue(result.standardError.contains("--user-timeout"), result.standardError)
        }
    }
}
