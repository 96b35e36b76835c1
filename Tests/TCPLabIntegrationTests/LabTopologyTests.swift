import Foundation
import TCPLab
import XCTest

/// The library's hosts: one namespace on loopback, a namespace per end on two hosts (and a
/// router's), each with its own sysctls, all of them gone after `close()`.
final class LabTopologyTests: XCTestCase {
    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
    }

    func testKernelParametersAreTheNamespacesNotTheHosts() throws {
        let lab = try Lab(prefix: "tcplab-topo")
        defer { lab.close() }
        let host = try String(contentsOfFile: "/proc/sys/net/ipv4/tcp_syn_retries", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let value = host == "3" ? 4 : 3
        try lab.sysctl("net.ipv4.tcp_syn_retries", value)
        XCTAssertEqual(lab.kernel.synRetries, value, "the host has \(host)")
    }

    func testEachTopologyHasItsHostsAndLeavesNothingBehind() throws {
        for topology in LabTopology.allCases {
            let lab = try Lab(prefix: "tcplab-topo", topology: topology)
            let names = lab.hosts.map(\.namespace.name)
            XCTAssertEqual(Set(names).count, [.loopback: 1, .twoHosts: 2, .router: 3][topology], "\(topology)")
            XCTAssertEqual(lab.router != nil, topology == .router)
            try lab.sysctl("net.ipv4.tcp_fin_timeout", 7)
            for host in lab.hosts { XCTAssertEqual(try host.namespace.sysctlInt("net.ipv4.tcp_fin_timeout"), 7, "\(topology) \(host.namespace.name)") }
            XCTAssertEqual(try lab.link().mtu, topology == .loopback ? 65536 : 1500, "\(topology)")
            // The client reaches the server at the lab's address, through the router where there is one.
            try lab.echoServer()
            let echo = try lab.echoClient(["--connect-timeout", "2s"], timeout: 10)
            XCTAssertTrue(echo.echoOK, "\(topology): \(echo.error ?? "?")")
            lab.close()
            let left = try CommandRunner.run(["ip", "netns", "list"]).standardOutput
            for name in names { XCTAssertFalse(left.contains(name), "\(topology): \(name) left behind") }
        }
    }
}
