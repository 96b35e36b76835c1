import Foundation
import TCPLab
import XCTest

/// The README's library example: a user's own test of "our client's connect timeout fires after
/// the second lost SYN-ACK", written with TCPLab's fluent API and its tolerance rule.
final class LibraryExampleTests: XCTestCase {
    func testConnectTimeoutFiresAfterTheSecondLostSynAck() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }

        let lab = try Lab()
        try lab.echoServer()
        let fault = try lab.faultproxy(drop: "synack")
        try lab.echoClient(["--connect-timeout", "1.5s"]).assertFailed("ETIMEDOUT", after: 1.5)
        // Lost before the timeout: the first SYN-ACK, then at +1 s the request timer's and the one the repeated SYN drew.
        try fault.stop().assertDropped("synack", count: 3, before: 1.5)
    }
}
