import Foundation
import TCPLab
import XCTest

/// Every catalogue lab, in the fast profile, against the running kernel: a lab that fails its
/// verdict fails its test; one that cannot run on this machine is skipped with its reason.
final class LabCatalogueTests: XCTestCase {
    func run(_ name: String, topology: LabTopology = .loopback, file: StaticString = #filePath, line: UInt = #line) throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        let definition = try XCTUnwrap(LabCatalogue.named(name), "no lab \(name)")
        let report = LabRunner(profile: .fast, topology: topology).run(definition)
        XCTAssertEqual(report.topology, topology)
        let text = LabReportRenderer(ladders: true).render(report, definition: definition)
        switch report.status {
        case .passed: break
        case .skipped: throw XCTSkip("\(name): \(report.reason ?? "skipped")")
        case .failed: XCTFail(text, file: file, line: line)
        }
    }

    func testHandshake() throws { try run("handshake") }
    func testSynLost() throws { try run("syn-lost") }
    func testSynAckLost() throws { try run("synack-lost") }
    func testAckLost() throws { try run("ack-lost") }
    func testSimultaneousOpen() throws { try run("simultaneous-open") }
    func testAcceptQueueFull() throws { try run("accept-queue-full") }
    func testSynQueueFull() throws { try run("syn-queue-full") }
    func testOldDuplicateSyn() throws { try run("old-duplicate-syn") }
    func testTeardown() throws { try run("teardown") }
    func testFinLost() throws { try run("fin-lost") }
    func testFinAckLost() throws { try run("fin-ack-lost") }
    func testPeerFinLost() throws { try run("peer-fin-lost") }
    func testLastAckLost() throws { try run("last-ack-lost") }
    func testTimeWait() throws { try run("time-wait") }
    func testTimeWaitExhaustion() throws { try run("time-wait-exhaustion") }
    func testSimultaneousClose() throws { try run("simultaneous-close") }
    func testCloseWaitLeak() throws { try run("close-wait-leak") }
    func testClientDeadKeepalive() throws { try run("client-dead-keepalive") }
    func testServerDeadRetransmit() throws { try run("server-dead-retransmit") }
    func testPeerRestart() throws { try run("peer-restart") }
    func testDataLost() throws { try run("data-lost") }
    func testZeroWindow() throws { try run("zero-window") }
    func testFdLimit() throws { try run("fd-limit") }

    // On two hosts over veth (and through a router) for a representative subset: set-up,
    // teardown and failure labs. `tcplab run all --topology two-hosts` runs every one.
    func testHandshakeOnTwoHosts() throws { try run("handshake", topology: .twoHosts) }
    func testSynLostOnTwoHosts() throws { try run("syn-lost", topology: .twoHosts) }
    func testSynAckLostOnTwoHosts() throws { try run("synack-lost", topology: .twoHosts) }
    func testFinLostOnTwoHosts() throws { try run("fin-lost", topology: .twoHosts) }
    func testLastAckLostOnTwoHosts() throws { try run("last-ack-lost", topology: .twoHosts) }
    func testSimultaneousCloseOnTwoHosts() throws { try run("simultaneous-close", topology: .twoHosts) }
    func testPeerRestartOnTwoHosts() throws { try run("peer-restart", topology: .twoHosts) }
    func testZeroWindowOnTwoHosts() throws { try run("zero-window", topology: .twoHosts) }
    func testHandshakeThroughARouter() throws { try run("handshake", topology: .router) }
    func testTeardownThroughARouter() throws { try run("teardown", topology: .router) }
}
