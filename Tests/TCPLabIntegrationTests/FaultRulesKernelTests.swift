import Foundation
import TCPLabFault
import TCPLabNetlink
import XCTest

/// The linearized fault rules on the real kernel, independent of faultproxy's netlink transport:
/// each table is rendered to nft syntax, loaded with `nft -f` into a namespace of the test's own,
/// and real TCP over that namespace's loopback (python3 sockets) is checked against the rule
/// counters (`nft -j list table`). Each test makes and deletes its own namespace.
final class FaultRulesKernelTests: XCTestCase {
    private var namespace: String!
    private var workDirectory: URL!
    private static let port: UInt16 = 7400

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces and load nftables rules") }
        for tool in ["ip", "nft", "python3", "timeout"] where Self.which(tool) == nil {
            throw XCTSkip("needs \(tool) on PATH")
        }
        namespace = "tcplab-fault-\(getpid())-\(UInt32.random(in: 0...0xffff_ffff))"
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(namespace)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        try shell(["ip", "netns", "add", namespace])
        try inNamespace(["ip", "link", "set", "lo", "up"])
        // Short handshake retry budgets keep the failing connects to a few seconds.
        try inNamespace(["sysctl", "-q", "-w", "net.ipv4.tcp_syn_retries=2", "net.ipv4.tcp_synack_retries=2"])
        try Self.peerScript.write(to: workDirectory.appendingPathComponent("peer.py"), atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        if let namespace { _ = try? shell(["ip", "netns", "delete", namespace]) }
        if let workDirectory { try? FileManager.default.removeItem(at: workDirectory) }
    }

    // MARK: Counting segments

    func testSynackTwoDropsExactlyTwoSynacksAndConnectSucceeds() throws {
        let table = try plan(drops: ["synack:2"]).linearize()
        try load(table)
        let result = try peer("connect")
        XCTAssertEqual(result["echo"] as? String, "hello", "\(result)")
        // The first SYN-ACK is lost; the SYN-ACK timer (1 s) and the client's retransmitted SYN
        // each bring one more, and the third passes.
        let connect = try XCTUnwrap(result["connect"] as? Double)
        XCTAssertGreaterThan(connect, 0.9)
        XCTAssertLessThan(connect, 4)
        XCTAssertEqual(try counters()["drop synack"], 2)
    }

    func testSynDropsEverySynAndConnectTimesOut() throws {
        var table = try plan(drops: ["syn"]).linearize()
        // An extra counter ahead of everything counts what the client really sent.
        table.rules.insert(NFTRule(chain: FaultPlan.baseChain, expressions: [
            .payload(base: .transport, offset: 2, length: 2, destination: .r0),
            .cmp(op: .eq, source: .r0, data: [UInt8(Self.port >> 8), UInt8(Self.port & 0xff)]),
            .counter,
        ], comment: "seen from client"), at: 0)
        try load(table)
        let result = try peer("connect")
        XCTAssertTrue((result["client_error"] as? String ?? "").contains("timed out"), "\(result)")
        let counts = try counters()
        XCTAssertGreaterThanOrEqual(counts["drop syn"] ?? 0, 3, "the SYN and at least two retransmissions")
        XCTAssertEqual(counts["drop syn"], counts["seen from client"])
    }

    /// Every kind classified in one table whose faults only count (drop → continue).
    func testClientClosingFirstClassifiesEachHandshakeAndTeardownSegment() throws {
        try load(observing(try plan(drops: Self.everyKind)))
        let result = try peer("connect")
        XCTAssertEqual(result["echo"] as? String, "hello", "\(result)")
        let counts = try waitForCounters { $0["observe last-ack"] == 1 }
        let expected = [
            "syn": 1, "synack": 1, "handshake-ack": 1, "data": 2, "fin": 1, "fin-ack": 1, "peer-fin": 1, "last-ack": 1,
            "rst": 0, "keepalive": 0, "keepalive-ack": 0, "window-probe": 0,
        ]
        for (kind, count) in expected {
            XCTAssertEqual(counts["observe \(kind)"], count, kind)
        }
        XCTAssertGreaterThanOrEqual(counts["observe any"] ?? 0, 10)
    }

    func testServerClosingFirstOverIPv6SwapsTheTeardownDirections() throws {
        try load(observing(try plan(drops: Self.everyKind)))
        let result = try peer("server-close", ipv6: true)
        XCTAssertEqual(result["got"] as? String, "bye", "\(result)")
        let counts = try waitForCounters { $0["observe last-ack"] == 1 }
        let expected = ["syn": 1, "synack": 1, "handshake-ack": 1, "data": 1, "fin": 1, "fin-ack": 1, "peer-fin": 1, "last-ack": 1, "rst": 0]
        for (kind, count) in expected {
            XCTAssertEqual(counts["observe \(kind)"], count, kind)
        }
    }

    func testKeepaliveProbesAndAnswersAreRecognised() throws {
        try load(observing(try plan(drops: Self.everyKind)))
        // TCP_KEEPIDLE=1, KEEPINTVL=1, KEEPCNT=3; 3.5 s idle: probes at 1, 2 and 3 s, each answered.
        let result = try peer("keepalive", "3.5")
        XCTAssertEqual(result["echo"] as? String, "hello", "\(result)")
        let counts = try counters()
        XCTAssertEqual(counts["observe keepalive"], 3)
        XCTAssertEqual(counts["observe keepalive-ack"], 3)
        XCTAssertEqual(counts["observe window-probe"], 0)
        XCTAssertEqual(counts["observe handshake-ack"], 1)
        XCTAssertEqual(counts["observe fin-ack"], 1)
    }

    func testDroppingKeepaliveProbesKillsTheConnection() throws {
        try load(try plan(drops: ["keepalive"]).linearize())
        let result = try peer("keepalive", "5.5")
        // Three unanswered probes: the client gives up and its next send fails.
        XCTAssertTrue((result["client_error"] as? String ?? "").contains("timed out"), "\(result)")
        XCTAssertEqual(try counters()["drop keepalive"], 3)
    }

    func testZeroWindowProbesAreWindowProbesNotKeepalives() throws {
        try load(observing(try plan(drops: Self.everyKind)))
        let result = try peer("zero-window")
        XCTAssertEqual(result["sent"] as? Int, result["got"] as? Int, "\(result)")
        let counts = try counters()
        XCTAssertGreaterThanOrEqual(counts["observe window-probe"] ?? 0, 1)
        XCTAssertEqual(counts["observe keepalive"], 0, "the window update after the stall is no keepalive")
    }

    func testAnAbortIsOneRstAndNoTeardown() throws {
        try load(observing(try plan(drops: Self.everyKind)))
        let result = try peer("reset")
        XCTAssertTrue((result["client_error"] as? String ?? "").contains("reset"), "\(result)")
        let counts = try counters()
        XCTAssertEqual(counts["observe rst"], 1)
        for kind in ["fin", "fin-ack", "peer-fin", "last-ack", "data"] {
            XCTAssertEqual(counts["observe \(kind)"], 0, kind)
        }
    }

    // MARK: Dropping teardown segments for real

    func testEachTeardownSegmentLostOnceIsRetransmittedAndRecovered() throws {
        try load(try plan(drops: ["handshake-ack:1", "fin:1", "peer-fin:1", "last-ack:1"]).linearize())
        let result = try peer("connect")
        XCTAssertEqual(result["echo"] as? String, "hello", "\(result)")
        // The server in LAST_ACK only retransmits its FIN after an RTO: wait for the last drop.
        let counts = try waitForCounters { $0["drop last-ack"] == 1 }
        for kind in ["handshake-ack", "fin", "peer-fin", "last-ack"] {
            XCTAssertEqual(counts["drop \(kind)"], 1, kind)
        }
    }

    func testFinAckLostMakesTheFinRetransmit() throws {
        try load(try plan(drops: ["fin-ack@1"]).linearize())
        let result = try peer("connect")
        XCTAssertEqual(result["echo"] as? String, "hello", "\(result)")
        XCTAssertEqual(try waitForCounters { $0["drop fin-ack"] == 1 }["drop fin-ack"], 1)
    }

    func testFromServerLeavesTheClientsSegmentsAlone() throws {
        try load(try plan(drops: ["data:1"], from: .server).linearize())
        let result = try peer("connect")
        XCTAssertEqual(result["echo"] as? String, "hello", "\(result)")
        // Only the echo (from the server) is lost once; the client's "hello" is not touched.
        XCTAssertEqual(try counters()["drop data"], 1)
    }

    // MARK: The rendered text compiles to exactly the linearized expressions

    func testNftCompilesTheRenderedTextToTheLinearizedExpressions() throws {
        let plans = [
            try plan(drops: ["synack:2", "data@3", "data%0.3"], logGroup: 5),
            try plan(drops: Self.everyKind.filter { $0 != "synack" }, from: .client),
            try plan(drops: ["data%0.5"], seed: 42),
        ]
        for plan in plans {
            let table = NFTSyntaxRenderer.nftExpressible(try plan.linearize())
            let debug = try load(table, debug: true)
            let compiled = Self.netlinkRules(debug, table: table.name)
            let expected = table.rules.map { ($0.chain, Self.netlinkText($0.expressions)) }
            XCTAssertEqual(compiled.count, expected.count)
            for (index, (rule, mine)) in zip(compiled, expected).enumerated() {
                XCTAssertEqual(rule.chain, mine.0, "rule \(index)")
                XCTAssertEqual(Self.withoutL4protoDependency(rule.lines), Self.withoutL4protoDependency(mine.1),
                               "rule \(index): \(NFTSyntaxRenderer.render(table.rules[index], in: table))")
            }
        }
    }

    // MARK: Helpers

    private static let everyKind = SegmentKind.faultable.map(\.rawValue)

    private func plan(drops: [String], from: Endpoint? = nil, logGroup: UInt16? = nil, seed: UInt64? = nil) throws -> FaultPlan {
        FaultPlan(
            port: Self.port, drops: try drops.map { try DropSpec(parsing: $0) }, from: from, logGroup: logGroup,
            tableName: "faultproxy_test", seed: seed
        )
    }

    /// The same rules with every drop turned into a count: classification without changing the flow.
    private func observing(_ plan: FaultPlan) throws -> NFTTable {
        var table = try plan.linearize()
        table.rules = table.rules.map { rule in
            var rule = rule
            rule.expressions = rule.expressions.map { $0 == .verdict(.goto(FaultPlan.loseChain)) ? .verdict(.continue) : $0 }
            rule.comment = rule.comment.map { $0.replacingOccurrences(of: "drop ", with: "observe ") }
            return rule
        }
        return table
    }

    @discardableResult
    private func load(_ table: NFTTable, debug: Bool = false) throws -> String {
        let file = workDirectory.appendingPathComponent("rules.nft")
        try NFTSyntaxRenderer.render(NFTSyntaxRenderer.nftExpressible(table)).write(to: file, atomically: true, encoding: .utf8)
        return try inNamespace(["nft"] + (debug ? ["--debug=netlink"] : []) + ["-f", file.path])
    }

    /// Packets counted per rule comment, summed over rules that share one.
    private func counters() throws -> [String: Int] {
        let json = try inNamespace(["nft", "-j", "list", "table", "inet", "faultproxy_test"])
        let root = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        var counts: [String: Int] = [:]
        for item in root?["nftables"] as? [[String: Any]] ?? [] {
            guard let rule = item["rule"] as? [String: Any], let comment = rule["comment"] as? String else { continue }
            for expression in rule["expr"] as? [[String: Any]] ?? [] {
                if let counter = expression["counter"] as? [String: Any], let packets = counter["packets"] as? Int {
                    counts[comment, default: 0] += packets
                }
            }
        }
        return counts
    }

    /// Polls the counters (every 100 ms, at most 5 s) for segments the kernel sends after the peers are done.
    private func waitForCounters(_ done: ([String: Int]) -> Bool) throws -> [String: Int] {
        var counts = try counters()
        for _ in 0..<50 where !done(counts) {
            usleep(100_000)
            counts = try counters()
        }
        return counts
    }

    private func peer(_ mode: String, _ arguments: String..., ipv6: Bool = false) throws -> [String: Any] {
        let script = workDirectory.appendingPathComponent("peer.py").path
        let output = try inNamespace(["timeout", "40", "python3", script, mode, String(Self.port), ipv6 ? "v6" : "v4"] + arguments)
        let line = output.split(separator: "\n").last.map(String.init) ?? "{}"
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
    }

    @discardableResult
    private func inNamespace(_ arguments: [String]) throws -> String {
        try shell(["ip", "netns", "exec", namespace] + arguments)
    }

    @discardableResult
    private func shell(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FaultTestFailure("\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errorData, as: UTF8.self))")
        }
        // nft --debug=netlink writes the expressions to stdout, errors to stderr.
        return text
    }

    private static func which(_ tool: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":") {
            let path = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    // MARK: The peers

    /// Client and server in one python3 process on the namespace's loopback; prints one JSON line.
    /// Modes: connect (client closes first after an echo), server-close, reset (server aborts with
    /// SO_LINGER 0), keepalive IDLE_SECONDS,
    /// zero-window (a stalled reader). Every wait has a timeout.
    private static let peerScript = #"""
    import socket, struct, sys, time, json, threading
    mode, port, family = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    extra = sys.argv[4:]
    fam = socket.AF_INET6 if family == 'v6' else socket.AF_INET
    addr = '::1' if family == 'v6' else '127.0.0.1'
    srv = socket.socket(fam); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mode == 'zero-window':
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    srv.bind((addr, port)); srv.listen(8); srv.settimeout(15)
    out = {}
    if mode == 'zero-window':
        c = socket.create_connection((addr, port), timeout=5); a, _ = srv.accept()
        c.setblocking(False); sent = 0; start = time.monotonic()
        while time.monotonic() - start < 0.5:
            try: sent += c.send(b'x' * 1000)
            except BlockingIOError: time.sleep(0.01)
        time.sleep(2.0)
        a.settimeout(2); got = 0
        while got < sent:
            d = a.recv(65536)
            if not d: break
            got += len(d)
        out = {'sent': sent, 'got': got}; c.close(); a.close(); srv.close()
        print(json.dumps(out)); sys.exit(0)
    def server():
        try:
            a, _ = srv.accept(); a.settimeout(15)
            if mode == 'server-close':
                a.sendall(b'bye'); time.sleep(0.2); a.close(); return
            if mode == 'reset':
                a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); a.close(); return
            while True:
                d = a.recv(4096)
                if not d: break
                a.sendall(d)
            time.sleep(0.2); a.close()
        except Exception as e:
            out['server_error'] = str(e)
    t = threading.Thread(target=server); t.start()
    c = socket.socket(fam); c.settimeout(15)
    if mode == 'keepalive':
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    start = time.monotonic()
    try:
        c.connect((addr, port)); out['connect'] = round(time.monotonic() - start, 3)
        if mode == 'keepalive':
            time.sleep(float(extra[0]))
        if mode == 'server-close':
            out['got'] = c.recv(100).decode(); time.sleep(0.3); c.recv(100)
        elif mode == 'reset':
            c.recv(100)
        else:
            c.sendall(b'hello'); out['echo'] = c.recv(100).decode()
            c.shutdown(socket.SHUT_WR); c.recv(100)
        c.close()
    except Exception as e:
        out['client_error'] = str(e); out['after'] = round(time.monotonic() - start, 3); c.close()
        try: srv.shutdown(socket.SHUT_RDWR)  # wakes the accept of a server that never got the connection
        except Exception: pass
    t.join(20); srv.close()
    print(json.dumps(out))
    """#
}

private struct FaultTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
