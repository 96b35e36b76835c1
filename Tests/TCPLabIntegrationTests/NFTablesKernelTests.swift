import Foundation
import Synchronization
import SystemPackage
import CTCPLabShim
import TCPLabNetlink
import TCPLabSystem
import XCTest

/// NFTablesClient against the running kernel, each test in a network namespace of its own.
///
/// How the tests get into the namespace: `setns(CLONE_NEWNET)` moves only the calling thread,
/// and a netlink socket stays in the namespace it was created in. So each client is created
/// on a short-lived dedicated Thread that first enters the namespace (`onNamespaceThread`);
/// afterwards the client is used from the test's own thread and still talks to that
/// namespace. `nft` and traffic run through `ip netns exec`, so the host namespace is never
/// touched.
final class NFTablesKernelTests: XCTestCase {
    private var namespace: TestNamespace!

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces and tables") }
        namespace = try TestNamespace()
    }

    override func tearDown() {
        namespace?.delete()
    }

    private func makeClient() throws -> NFTablesClient {
        try namespace.onNamespaceThread { try NFTablesClient() }
    }

    /// A table with the rule kinds faultproxy uses.
    private func labTable(name: String, owned: Bool = true) -> NFTTable {
        let tcp: [UInt8] = [6], udp: [UInt8] = [17]
        return NFTTable(name: name, owned: owned, chains: [
            NFTChain(name: "prerouting", hook: .prerouting, priority: -150),
            NFTChain(name: "input", hook: .input, priority: 0),
            NFTChain(name: "marked", hook: nil),
        ], sets: [
            NFTSet(name: "seen", keyLength: 2, dynamic: true, timeoutMilliseconds: 60_000),
            NFTSet(name: "ports", keyLength: 2, dynamic: false, elements: [[0x1b, 0x58], [0x1f, 0x90]]),
        ], rules: [
            // tcp dport 7000 ct mark & 0x1 == 0 ct mark set ct mark | 0x1 counter drop comment "drop synack"
            NFTRule(chain: "prerouting", expressions: [
                .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: tcp),
                .payload(base: .transport, offset: 2, length: 2, destination: .r0),
                .cmp(op: .eq, source: .r0, data: [0x1b, 0x58]),
                .ct(key: .mark, destination: .r0),
                .bitwise(source: .r0, destination: .r0, mask: [1, 0, 0, 0], xor: [0, 0, 0, 0]),
                .cmp(op: .eq, source: .r0, data: [0, 0, 0, 0]),
                .ct(key: .mark, destination: .r0),
                .bitwise(source: .r0, destination: .r0, mask: [0xfe, 0xff, 0xff, 0xff], xor: [1, 0, 0, 0]),
                .ctSet(key: .mark, source: .r0),
                .counter, .verdict(.drop),
            ], comment: "drop synack"),
            // udp dport 9999 log prefix "tcplab " group 3 queue-threshold 1 counter comment "udp 9999"
            NFTRule(chain: "input", expressions: [
                .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: udp),
                .payload(base: .transport, offset: 2, length: 2, destination: .r0),
                .cmp(op: .eq, source: .r0, data: [0x27, 0x0f]),
                .log(group: 3, prefix: "tcplab ", queueThreshold: 1),
                .counter,
            ], comment: "udp 9999"),
            // update @seen { udp dport timeout 2s }
            NFTRule(chain: "input", expressions: [
                .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: udp),
                .payload(base: .transport, offset: 2, length: 2, destination: .r0),
                .dynset(set: "seen", op: .update, keySource: .r0, timeoutMilliseconds: 2_000),
            ]),
            // tcp dport 7001 queue num 5 bypass, via the x_tables NFQUEUE target
            NFTRule(chain: "input", expressions: [
                .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: tcp),
                .payload(base: .transport, offset: 2, length: 2, destination: .r0),
                .cmp(op: .eq, source: .r0, data: [0x1b, 0x59]),
                .xtQueue(number: 5, bypass: true),
            ], comment: "queue 7001"),
            NFTRule(chain: "input", expressions: [
                .ct(key: .mark, destination: .r0), .cmp(op: .neq, source: .r0, data: [0, 0, 0, 0]),
                .verdict(.jump("marked")),
            ]),
            // tcp dport != @ports accept
            NFTRule(chain: "input", expressions: [
                .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: tcp),
                .payload(base: .transport, offset: 2, length: 2, destination: .r0),
                .lookup(set: "ports", source: .r0, invert: true),
                .verdict(.accept),
            ]),
            NFTRule(chain: "marked", expressions: [.counter, .verdict(.return)], comment: "marked"),
        ])
    }

    func testInstalledTableMatchesNftListingAndKernelDump() throws {
        let client = try makeClient()
        let table = labTable(name: "tcplab_lab")
        try client.install(table)

        let listing = try namespace.run(["nft", "list", "table", "inet", "tcplab_lab"])
        for expected in [
            "type filter hook prerouting priority mangle; policy accept;",
            "tcp dport 7000 ct mark & 0x00000001 == 0x00000000 ct mark set ct mark | 0x00000001 counter packets 0 bytes 0 drop comment \"drop synack\"",
            "udp dport 9999 log prefix \"tcplab \" group 3 queue-threshold 1 counter packets 0 bytes 0 comment \"udp 9999\"",
            "update @seen { udp dport timeout 2s }",
            // nft 1.0.6 without libxtables prints an x_tables target as nothing; newer ones as `xt target "NFQUEUE"`.
            "tcp dport 7001 ",
            "ct mark != 0x00000000 jump marked",
            "counter packets 0 bytes 0 return comment \"marked\"",
            "flags dynamic,timeout",
            "timeout 1m",
            "elements = { 7000, 8080 }",
            "tcp dport != @ports accept",
        ] {
            XCTAssertTrue(listing.contains(expected), "missing `\(expected)` in:\n\(listing)")
        }
        let expressions = try namespace.run(["nft", "--debug=netlink", "list", "table", "inet", "tcplab_lab"])
        XCTAssertTrue(expressions.contains("[ target name NFQUEUE rev 3 ]"), expressions)
        // The kernel's own dump, read back into the IR, is what we sent (a dump lists the rules
        // chain by chain, which is also the order labTable lists them in).
        XCTAssertEqual(try client.rules(table: "tcplab_lab"), table.rules)
    }

    /// faultproxy's idle tracking: `ct id != @recent` and `update @recent { ct id }` into a
    /// dynamic set with a timeout created in the same batch. The kernel refused both rules with
    /// EINVAL while the IR sent ct key 22 (NFT_CT_DST_IP6, which needs a direction) for `ct id`.
    func testConnectionIDIdleTrackingInstallsAndFillsTheSet() throws {
        let client = try makeClient()
        let table = NFTTable(name: "tcplab_idle", owned: true, chains: [
            NFTChain(name: "input", hook: .input, priority: 0),
        ], sets: [
            NFTSet(name: "recent", keyLength: 4, dynamic: true, timeoutMilliseconds: 60_000),
        ], rules: [
            NFTRule(chain: "input", expressions: [
                .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: [17]),
                .ct(key: .id, destination: .r0), .lookup(set: "recent", source: .r0, invert: true),
                .counter,
            ], comment: "idle"),
            NFTRule(chain: "input", expressions: [
                .ct(key: .id, destination: .r0),
                .dynset(set: "recent", op: .update, keySource: .r0, timeoutMilliseconds: 60_000),
            ]),
        ])
        try client.install(table)

        let listing = try namespace.run(["nft", "list", "table", "inet", "tcplab_idle"])
        for expected in ["meta l4proto udp ct id != @recent counter", "update @recent { ct id timeout 1m }"] {
            XCTAssertTrue(listing.contains(expected), "missing `\(expected)` in:\n\(listing)")
        }
        XCTAssertEqual(try client.rules(table: "tcplab_idle"), table.rules)

        // Two datagrams of one UDP flow: the first is idle (not yet in the set), the second not.
        for _ in 0..<2 {
            _ = try namespace.run(["sh", "-c", "printf 'x\\n' | socat -u - UDP:127.0.0.1:9999,sourceport=40000"])
        }
        let counters = try client.ruleCounters(table: "tcplab_idle")
        XCTAssertEqual(counters.first { $0.comment == "idle" }?.packets, 1, "\(counters)")
        let set = try namespace.run(["nft", "list", "set", "inet", "tcplab_idle", "recent"])
        XCTAssertTrue(set.contains("elements = {"), set)
    }

    func testListTablesReportsOwnerAndDeleteTableRemoves() throws {
        let client = try makeClient()
        try client.install(labTable(name: "tcplab_owned"))
        try client.install(NFTTable(name: "tcplab_plain", owned: false, chains: [NFTChain(name: "c", hook: nil)]))

        let tables = try client.listTables()
        let owned = try XCTUnwrap(tables.first { $0.name == "tcplab_owned" })
        XCTAssertEqual(owned.family, .inet)
        XCTAssertTrue(owned.isOwned)
        XCTAssertEqual(owned.ownerPortID, client.portID)
        XCTAssertGreaterThan(owned.handle, 0)
        let plain = try XCTUnwrap(tables.first { $0.name == "tcplab_plain" })
        XCTAssertFalse(plain.isOwned)
        XCTAssertNil(plain.ownerPortID)

        // Another socket may not delete (nor take over) a table it does not own.
        let other = try makeClient()
        XCTAssertThrowsError(try other.deleteTable(family: .inet, name: "tcplab_owned")) { error in
            XCTAssertEqual((error as? NFTablesError)?.errno, .notPermitted, "\(error)")
        }
        try other.deleteTable(family: .inet, name: "tcplab_plain")
        XCTAssertThrowsError(try other.deleteTable(family: .inet, name: "tcplab_plain")) { error in
            XCTAssertEqual("\(error)", "kernel refused deletion of table inet tcplab_plain: No such file or directory (ENOENT); no such table")
        }
        try client.deleteTable(family: .inet, name: "tcplab_owned")
        XCTAssertEqual(try client.listTables().map(\.name), [])
    }

    func testInstallingAnExistingTableIsRefusedUnlessReplacing() throws {
        let client = try makeClient()
        let table = labTable(name: "tcplab_again", owned: false)
        try client.install(table)
        XCTAssertThrowsError(try client.install(table)) { error in
            XCTAssertEqual((error as? NFTablesError)?.errno, .fileExists, "\(error)")
        }
        var smaller = table
        smaller.rules = Array(table.rules.prefix(2))
        try client.install(smaller, replacingExisting: true)
        XCTAssertEqual(try client.rules(table: "tcplab_again"), smaller.rules)
    }

    func testRefusedBatchInstallsNothingAndNamesTheRule() throws {
        let client = try makeClient()
        var table = labTable(name: "tcplab_refused")
        table.rules.insert(NFTRule(chain: "input", expressions: [.verdict(.jump("nowhere"))], comment: "bad jump"), at: 2)
        XCTAssertThrowsError(try client.install(table)) { error in
            XCTAssertEqual("\(error)", "kernel refused rule \"bad jump\" (chain input): No such file or directory (ENOENT); "
                           + "chain nowhere is not in table tcplab_refused")
        }
        XCTAssertEqual(try client.listTables().map(\.name), [], "a refused batch leaves nothing behind")
        XCTAssertEqual(try namespace.run(["nft", "list", "tables"]), "")
    }

    func testNativeQueueProbeAgreesWithNft() throws {
        let client = try makeClient()
        let supported = try client.supportsNativeQueue()
        XCTAssertEqual(try client.listTables().map(\.name), [], "the probe removes its table")
        let nft = namespace.runStatus(["nft", "add table inet q; add chain inet q c; add rule inet q c queue num 0 bypass"])
        XCTAssertEqual(supported, nft == 0, "probe says \(supported), nft exited \(nft)")
        _ = namespace.runStatus(["nft", "delete table inet q"])

        guard !supported else { return }
        var table = labTable(name: "tcplab_queue")
        table.rules.append(NFTRule(chain: "input", expressions: [.queue(number: 1, bypass: true)], comment: "native queue"))
        XCTAssertThrowsError(try client.install(table)) { error in
            XCTAssertEqual("\(error)", "kernel refused rule \"native queue\" (chain input): No such file or directory (ENOENT); "
                           + "this kernel lacks the native queue expression (use xtQueue, the x_tables NFQUEUE target)")
        }
        XCTAssertEqual(try client.listTables().map(\.name), [])
    }

    func testWithoutCapNetAdminTheBatchIsRefusedWithAHint() throws {
        // Measured here: the kernel judges CAP_NET_ADMIN by the thread that sends the batch
        // (a socket opened without it and used by a privileged thread works). So everything
        // runs on a thread whose effective capabilities are dropped (capset acts per thread).
        let table = labTable(name: "tcplab_denied")
        let (installError, listError) = try namespace.onNamespaceThread { () throws -> (String, Errno?) in
            guard tcplab_drop_effective_capabilities_of_thread() == 0 else { throw Errno(rawValue: errno) }
            let client = try NFTablesClient()
            var installError = "installed"
            do { try client.install(table) } catch { installError = "\(error)" }
            do { _ = try client.listTables(); return (installError, nil) } catch { return (installError, (error as? NFTablesError)?.errno) }
        }
        XCTAssertEqual(installError, "nftables batch: needs CAP_NET_ADMIN: run as root (sudo) or grant it "
                       + "(setcap cap_net_admin+ep <executable>)")
        XCTAssertEqual(listError, .notPermitted)
        XCTAssertEqual(try namespace.run(["nft", "list", "tables"]), "")
    }

    func testOwnedTableDiesWithTheClient() throws {
        var client: NFTablesClient? = try makeClient()
        try client!.install(labTable(name: "tcplab_mine"))
        try client!.install(NFTTable(name: "tcplab_kept", owned: false))
        XCTAssertEqual(try namespace.run(["nft", "list", "tables"]), "table inet tcplab_mine\ntable inet tcplab_kept\n")
        client = nil  // closes the netlink socket, as process exit or SIGKILL would
        XCTAssertEqual(try namespace.run(["nft", "list", "tables"]), "table inet tcplab_kept\n")
    }

    func testCountersAfterLoopbackTraffic() throws {
        let client = try makeClient()
        try client.install(labTable(name: "tcplab_count"))
        for _ in 0..<3 {
            // One 2-byte UDP datagram to 127.0.0.1:9999 (nobody listens; input still sees it).
            _ = try namespace.run(["sh", "-c", "printf 'x\\n' | socat -u - UDP:127.0.0.1:9999"])
        }
        let counters = try client.ruleCounters(table: "tcplab_count")
        XCTAssertEqual(counters.map(\.comment), ["drop synack", "udp 9999", "marked"])
        let udp = try XCTUnwrap(counters.first { $0.comment == "udp 9999" })
        XCTAssertEqual(udp.chain, "input")
        XCTAssertEqual(udp.packets, 3)
        XCTAssertEqual(udp.bytes, 3 * (20 + 8 + 2), "IPv4 + UDP headers + 2 bytes")
        XCTAssertEqual(counters.first { $0.comment == "drop synack" }?.packets, 0)
        // The dynset rule put the port into the timeout set.
        XCTAssertTrue(try namespace.run(["nft", "list", "set", "inet", "tcplab_count", "seen"]).contains("9999 timeout 2s"))
    }
}

/// A network namespace for one test: `ip netns add` with lo up, deleted at tearDown.
private final class TestNamespace: @unchecked Sendable {
    let name: String
    private static let counter = Mutex(0)

    init() throws {
        let serial = Self.counter.withLock { value in value += 1; return value }
        name = "tcplab-netlink-\(getpid())-\(serial)"
        _ = try Self.execute(["ip", "netns", "add", name])
        _ = try Self.execute(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    func delete() { _ = try? Self.execute(["ip", "netns", "delete", name]) }

    /// Runs `body` on a fresh thread that has entered the namespace; sockets it opens stay there.
    func onNamespaceThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let outcome = ThreadOutcome<T>()
        let finished = DispatchSemaphore(value: 0)
        let name = self.name
        let thread = Thread {
            outcome.result = Result { try NetworkNamespace.enter(named: name); return try body() }
            finished.signal()
        }
        thread.start()
        guard finished.wait(timeout: .now() + 30) == .success else { throw POSIXError(.ETIMEDOUT) }
        return try outcome.result!.get()
    }

    /// Runs a command inside the namespace; throws when it fails. Returns stdout.
    @discardableResult
    func run(_ command: [String]) throws -> String {
        try Self.execute(["ip", "netns", "exec", name] + command)
    }

    /// Runs a command inside the namespace and returns its exit status.
    func runStatus(_ command: [String]) -> Int32 {
        do {
            try Self.execute(["ip", "netns", "exec", name] + command)
            return 0
        } catch let failure as CommandFailed {
            return failure.status
        } catch {
            return -1
        }
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: [String], status: Int32, output: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    @discardableResult
    static func execute(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw CommandFailed(command: command, status: process.terminationStatus, output: errorText + text)
        }
        return text
    }
}

/// What the namespace thread hands back; the semaphore orders the write before the read.
private final class ThreadOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
