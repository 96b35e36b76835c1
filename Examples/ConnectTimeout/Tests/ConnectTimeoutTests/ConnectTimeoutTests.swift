import TCPLab
import XCTest

final class ConnectTimeoutTests: XCTestCase {
    func testConnectTimeoutFiresAfterTheSecondLostSynAck() throws {
        try XCTSkipUnless(Lab.isPrivileged, Lab.privilegeHint)   // network namespaces need root
        let lab = try Lab()                                   // a fresh network namespace
        try lab.echoServer()
        let fault = try lab.faultproxy(drop: "synack")
        try lab.echoClient(["--connect-timeout", "1.5s"]).assertFailed("ETIMEDOUT", after: 1.5)
        try fault.stop().assertDropped("synack", count: 3, before: 1.5)
    }
}
