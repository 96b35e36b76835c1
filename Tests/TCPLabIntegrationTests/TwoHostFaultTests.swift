import Foundation
import TCPLab
import XCTest

/// faultproxy where users run it: a client and a server in two namespaces over veth, and a router
/// between them. In each place `--drop synack:2` must drop two SYN-ACKs (faultproxy's count and
/// the kernel's rule counters), and the timeline must hold both ends' segments with the right
/// kinds, segment for segment what tcpdump saw on the interface each one crossed.
final class TwoHostFaultTests: XCTestCase {
    private var network: TwoHostNetwork!
    private var directory: URL!
    private static let port: UInt16 = 7000

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tcplab-twohost-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        network?.delete()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testSynackTwoInTheServersNamespace() throws {
        network = try TwoHostNetwork(prefix: "tcplab-2h")
        try dropTwoSynacks(at: network.server)
    }

    func testSynackTwoInTheClientsNamespace() throws {
        network = try TwoHostNetwork(prefix: "tcplab-2h")
        try dropTwoSynacks(at: network.client)
    }

    func testSynackTwoInARouterBetween() throws {
        network = try TwoHostNetwork(prefix: "tcplab-2h", router: true)
        try dropTwoSynacks(at: try XCTUnwrap(network.router))
    }

    /// Every SYN-ACK lost, once dropped by the server's own namespace and once on arrival at the
    /// client: the server must send as many, on the same schedule. A plain nftables `drop` at the
    /// server's output is shown for contrast: the send fails locally and TCP retries it without
    /// counting a retransmission, so more SYN-ACKs go out than tcp_synack_retries allows.
    func testOwnSynackLossLooksLikeLossOnTheWire() throws {
        var schedules: [String: [Int64]] = [:]
        for place in ["server", "client"] {
            network = try TwoHostNetwork(prefix: "tcplab-2h")
            try network.server.namespace.setSysctl("net.ipv4.tcp_synack_retries", "2")
            try network.client.namespace.setSysctl("net.ipv4.tcp_syn_retries", "2")
            let host = place == "server" ? network.server : network.client
            let server = try startServer()
            defer { server.stop() }
            let proxy = try host.namespace.spawn([try LabBinaries.path("faultproxy"), "--target", "\(Self.port)", "--drop", "synack",
                                                  "--timeline", "json"])
            defer { proxy.stop() }
            try proxy.awaitRulesInstalled()
            let client = try runClient()
            XCTAssertTrue(client.standardError.contains("ETIMEDOUT"), client.standardError)
            let retransmitted = try network.server.namespace.netstat()["TcpExt", "TCPSynRetrans"]
            proxy.signal(SIGINT)
            XCTAssertEqual(proxy.wait(timeout: 10), 0, proxy.standardError)
            let synacks = try Self.segments(proxy.standardOutput).filter { $0["kind"] as? String == "synack" }
            XCTAssertTrue(synacks.allSatisfy { $0["fate"] as? String == "dropped" }, "\(synacks)")
            schedules[place] = synacks.map { Self.micros($0) - Self.micros(synacks[0]) }
            // The server's own count of SYN-ACK retransmissions agrees (nstat TcpExtTCPSynRetrans).
            XCTAssertEqual(retransmitted, synacks.count - 1, "\(place): TCPSynRetrans")
            network.delete()
        }
        let own = try XCTUnwrap(schedules["server"]), onArrival = try XCTUnwrap(schedules["client"])
        print("every SYN-ACK lost: dropped by the server's namespace \(own.map { $0 / 1000 }) ms, on arrival at the client \(onArrival.map { $0 / 1000 }) ms")
        XCTAssertEqual(own.count, onArrival.count, "as many SYN-ACKs whether lost at the sender's own hook or on arrival")
        XCTAssertEqual(own.count, 8, "1 + tcp_synack_retries for each of the client's 3 SYNs, less the ones that coincide")
        // Each within a 32 ms timer-wheel slot (~1 s timers), a 4 ms tick and 1 ms of logging of the other.
        for (a, b) in zip(own, onArrival) { XCTAssertLessThan(abs(a - b), 37_000, "own \(own), on arrival \(onArrival)") }

        // The contrast: a plain drop at the server's output hook.
        network = try TwoHostNetwork(prefix: "tcplab-2h")
        try network.server.namespace.setSysctl("net.ipv4.tcp_synack_retries", "2")
        try network.client.namespace.setSysctl("net.ipv4.tcp_syn_retries", "2")
        try network.server.namespace.run(["nft", "add table inet plain; add chain inet plain out { type filter hook output priority 0; }; add rule inet plain out tcp sport \(Self.port) tcp flags & (syn|ack) == syn|ack counter drop"])
        let server = try startServer()
        defer { server.stop() }
        _ = try runClient()
        let plain = try network.server.namespace.run(["nft", "list", "table", "inet", "plain"]).standardOutput
        let attempts = Int(plain.components(separatedBy: "counter packets ").last?.prefix { $0.isNumber } ?? "") ?? 0
        print("a plain nftables drop at the server's output: \(attempts) SYN-ACK sends")
        XCTAssertGreaterThan(attempts, own.count, "a local drop is not loss on the wire: TCP retries it uncounted")
    }

    /// A duplicate of the client's own data segment, made in the client's namespace: the copy
    /// goes out from faultproxy's raw socket marked, so the table logs it once as it passes and
    /// does not copy it again. tcpdump on the client's link sees the original and the copy.
    func testADuplicatedOwnSegmentsCopyCrossesOnce() throws {
        network = try TwoHostNetwork(prefix: "tcplab-2h")
        let server = try startServer()
        defer { server.stop() }
        let file = directory.appendingPathComponent("client.pcap").path
        let tcpdump = try network.client.namespace.spawn(["tcpdump", "--immediate-mode", "-U", "-n", "-i", "eth0", "-w", file, "tcp port \(Self.port)"])
        defer { tcpdump.stop() }
        guard tcpdump.waitForError(timeout: 10, { $0.contains("listening on") }) else { throw XCTSkip("tcpdump did not start: \(tcpdump.standardError)") }
        let proxy = try network.client.namespace.spawn([try LabBinaries.path("faultproxy"), "--target", "\(Self.port)", "--duplicate", "data=100ms",
                                                        "--from", "client", "--timeline", "json"])
        defer { proxy.stop() }
        try proxy.awaitRulesInstalled()
        let client = try runClient(["--hold", "0.3s"])
        XCTAssertEqual(client.status, 0, client.standardError)
        usleep(400_000)
        proxy.signal(SIGINT)
        XCTAssertEqual(proxy.wait(timeout: 10), 0, proxy.standardError)
        tcpdump.signal(SIGINT)
        tcpdump.wait(timeout: 10)
        let data = try Self.segments(proxy.standardOutput).filter { $0["from"] as? String == "client" && $0["kind"] as? String == "data" }
        XCTAssertEqual(data.map { $0["fate"] as? String ?? "?" }, ["duplicated", "passed"], "the original, then its copy once")
        let witnessed = try WitnessedNamespaceTestCase.witnessedSegments(file).filter { $0.flags == "P." && $0.length == 5 }
        XCTAssertEqual(witnessed.count, 3, "the client's data, its copy, and the server's echo on the client's link")
        XCTAssertTrue(proxy.standardError.contains("duplicated 1 data (1 copy sent)"), proxy.standardError)
    }

    /// `--netns pid:N` enters the namespace a process is in, as for a container's.
    func testNetnsTakesAProcessAndAPath() throws {
        network = try TwoHostNetwork(prefix: "tcplab-2h")
        let server = try startServer()
        defer { server.stop() }
        let echoServerPID = try XCTUnwrap(Int32(try network.server.namespace.run(["pgrep", "-n", "echo-server"]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        for reference in ["pid:\(echoServerPID)", "/run/netns/\(network.server.namespace.name)"] {
            let proxy = try LabProcess([try LabBinaries.path("faultproxy"), "--netns", reference, "--target", "\(Self.port)", "--drop", "synack:1", "--json"])
            defer { proxy.stop() }
            try proxy.awaitRulesInstalled()
            let client = try runClient()
            XCTAssertEqual(client.status, 0, client.standardError)
            proxy.signal(SIGINT)
            XCTAssertEqual(proxy.wait(timeout: 10), 0, proxy.standardError)
            XCTAssertTrue(proxy.standardOutput.contains("\"synack\":1"), "\(reference): \(proxy.standardOutput)")
        }
    }

    // MARK: The three places

    private func dropTwoSynacks(at host: LabHost) throws {
        let server = try startServer()
        defer { server.stop() }
        // The witness: tcpdump where each segment crossed. On an end host, its one interface; on
        // the router, each segment as it arrived from its sender (`-Q in` on both links).
        let captures: [(LabProcess, String)] = try host.interfaces.map { interface in
            let file = directory.appendingPathComponent("\(interface).pcap").path
            let direction = host.interfaces.count > 1 ? ["-Q", "in"] : []
            let tcpdump = try host.namespace.spawn(["tcpdump", "--immediate-mode", "-U", "-n", "-i", interface] + direction
                + ["-w", file, "tcp port \(Self.port)"])
            guard tcpdump.waitForError(timeout: 10, { $0.contains("listening on") }) else {
                tcpdump.stop()
                throw XCTSkip("tcpdump did not start (apt-get install tcpdump): \(tcpdump.standardError)")
            }
            return (tcpdump, file)
        }
        defer { captures.forEach { $0.0.stop() } }
        let proxy = try host.namespace.spawn([try LabBinaries.path("faultproxy"), "--target", "\(Self.port)", "--drop", "synack:2",
                                              "--timeline", "json"])
        defer { proxy.stop() }
        try proxy.awaitRulesInstalled()

        let client = try runClient()
        XCTAssertEqual(client.status, 0, client.standardError)
        usleep(300_000)
        let ruleCounters = try Self.dropCounter(host.namespace)
        proxy.signal(SIGINT)
        XCTAssertEqual(proxy.wait(timeout: 10), 0, proxy.standardError)
        for (tcpdump, _) in captures {
            tcpdump.signal(SIGINT)
            tcpdump.wait(timeout: 10)
        }

        let place = host.namespace.name
        XCTAssertTrue(proxy.standardError.contains("dropped 2 synack"), "\(place): \(proxy.standardError)")
        XCTAssertEqual(ruleCounters, 2, "\(place): the kernel's counters on the drop rules")

        // In time order (unix_us), as tcpdump's are: NFLOG logs in the order each CPU reaches the
        // rule, and a forwarded ACK held in one CPU's backlog was once logged after the FIN the
        // other CPU forwarded 1.7 ms later (CI, the router). The timeline's times were right.
        let segments = try Self.segments(proxy.standardOutput).enumerated()
            .sorted { (Self.micros($0.element), $0.offset) < (Self.micros($1.element), $1.offset) }.map(\.element)
        let kinds = segments.map { "\($0["from"]!):\($0["kind"]!)\($0["fate"] as? String == "dropped" ? "✗" : "")" }
        XCTAssertEqual(kinds.first, "client:syn", "\(place): \(kinds)")
        // The SYN-ACK timer and the client's retransmitted SYN (both ~1 s) bring one each, in either order.
        XCTAssertEqual(kinds.filter { $0.hasPrefix("server:synack") }, ["server:synack✗", "server:synack✗", "server:synack"], "\(place): \(kinds)")
        XCTAssertTrue(kinds.contains("client:handshake-ack"), "\(place): \(kinds)")
        XCTAssertEqual(kinds.filter { $0 == "client:data" }.count, 1, "\(place): \(kinds)")
        XCTAssertEqual(kinds.filter { $0 == "server:data" }.count, 1, "\(place): \(kinds)")
        XCTAssertEqual(Array(kinds.suffix(3)), ["client:fin", "server:peer-fin", "client:last-ack"], "\(place): \(kinds)")

        // What the witness can see: a segment the sender's own namespace dropped never reached a wire.
        let ownDrops = host.address == network.server.address
        let crossed = segments.filter { !(ownDrops && $0["fate"] as? String == "dropped") }
        var witness = try captures.flatMap { try WitnessedNamespaceTestCase.witnessedSegments($0.1) }
        witness.sort { $0.micros < $1.micros }
        XCTAssertEqual(witness.count, crossed.count, "\(place): tcpdump saw \(witness.count), the timeline \(crossed.count): \(kinds)")
        var worst: Int64 = 0
        for (seen, event) in zip(witness, crossed) {
            XCTAssertEqual(seen.flags, event["flags"] as? String, "\(place)")
            XCTAssertEqual(seen.length, event["len_bytes"] as? Int, "\(place)")
            worst = max(worst, abs(seen.micros - Self.micros(event)))
        }
        XCTAssertLessThan(worst, 1000, "\(place): timeline and tcpdump differ by up to \(worst) µs")
        print("\(place): \(crossed.count) segments as tcpdump saw them, worst timestamp difference \(worst) µs")
        if ownDrops {
            // The receiver's silence: the client's side of the link saw one SYN-ACK only.
            XCTAssertEqual(witness.filter { $0.flags == "S." }.count, 1)
        }
    }

    // MARK: Helpers

    private func startServer() throws -> LabProcess {
        try network.server.namespace.startEchoServer(["--host", network.server.address, "--port", "\(Self.port)"])
    }

    /// echo-client from the client's host to the server, to completion.
    private func runClient(_ options: [String] = []) throws -> CommandRunner.Result {
        try network.client.namespace.run([try LabBinaries.path("echo-client"), "--host", network.server.address, "--port", "\(Self.port)"] + options,
                                         timeout: 30, check: false)
    }

    private static func segments(_ output: String) throws -> [[String: Any]] {
        try output.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }.filter { $0["type"] as? String == "segment" }
    }

    private static func micros(_ event: [String: Any]) -> Int64 { (event["unix_us"] as? NSNumber)?.int64Value ?? 0 }

    /// The packets the drop rules of the namespace's faultproxy table counted, from `nft list`.
    private static func dropCounter(_ namespace: LabNamespace) throws -> Int {
        let listing = try namespace.run(["nft", "list", "ruleset"]).standardOutput
        return listing.split(separator: "\n").filter { $0.contains("comment \"drop synack\"") }.reduce(0) { sum, line in
            guard let range = line.range(of: "counter packets ") else { return sum }
            return sum + (Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0)
        }
    }

}
