import TCPLab
import XCTest

/// Parsing /proc/net/netstat and /proc/net/snmp pairs of lines, and the difference of two snapshots.
final class NetstatSnapshotTests: XCTestCase {
    // Shortened lines in the kernel's format: a header line of names, then a line of values.
    static let first = """
        TcpExt: SyncookiesSent TCPLossProbes TCPTimeouts
        TcpExt: 0 3 1
        IpExt: InNoRoutes InTruncatedPkts
        IpExt: 0 0
        Tcp: RtoAlgorithm RtoMin RetransSegs
        Tcp: 1 200 7
        """
    static let second = """
        TcpExt: SyncookiesSent TCPLossProbes TCPTimeouts
        TcpExt: 0 4 1
        Tcp: RtoAlgorithm RtoMin RetransSegs
        Tcp: 1 200 9
        """

    func testReadsEveryGroup() {
        let snapshot = NetstatSnapshot(parsing: Self.first)
        XCTAssertEqual(snapshot["TcpExt", "TCPLossProbes"], 3)
        XCTAssertEqual(snapshot["Tcp", "RetransSegs"], 7)
        XCTAssertEqual(snapshot["IpExt", "InTruncatedPkts"], 0)
        XCTAssertEqual(snapshot["TcpExt", "NoSuchCounter"], 0)
    }

    func testDeltaIsPerCounter() {
        let change = NetstatSnapshot(parsing: Self.second).delta(from: NetstatSnapshot(parsing: Self.first))
        XCTAssertEqual(change["TcpExt", "TCPLossProbes"], 1)
        XCTAssertEqual(change["TcpExt", "TCPTimeouts"], 0)
        XCTAssertEqual(change["Tcp", "RetransSegs"], 2)
        XCTAssertEqual(change.describe(["TCPLossProbes", "TCPTimeouts"]), "TCPLossProbes 1, TCPTimeouts 0")
    }
}
