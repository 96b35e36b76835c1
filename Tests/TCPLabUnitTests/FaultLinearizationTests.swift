import TCPLabFault
import TCPLabNetlink
import XCTest

final class FaultLinearizationTests: XCTestCase {
    private func table(_ drops: [String], from: Endpoint? = nil, logGroup: UInt16? = nil) throws -> NFTTable {
        try FaultPlan(port: 7000, drops: drops.map { try DropSpec(parsing: $0) }, from: from, logGroup: logGroup, tableName: "t").linearize()
    }

    private func rules(_ table: NFTTable, comment: String) -> [NFTRule] {
        table.rules.filter { $0.comment == comment }
    }

    /// "state & mask == value" as the linearizer emits it: one membership test of the connection's
    /// id per bit, in the table's own `state_N` sets.
    private func connectionState(_ mask: UInt32, _ value: UInt32) -> [NFTExpression] {
        (0..<32).filter { mask & (1 << $0) != 0 }.flatMap { bit in
            [.ct(key: .id, destination: .r0), .lookup(set: "state_\(bit)", source: .r0, invert: value & (1 << bit) == 0)]
        }
    }

    private func writesState(_ rule: NFTRule) -> Bool {
        rule.expressions.contains { if case .dynset(let set, _, _, _) = $0 { set.hasPrefix("state_") } else { false } }
    }

    private func le(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    func testOneTableOneBaseChainAtPreroutingAfterConntrack() throws {
        let table = try table(["syn"])
        XCTAssertEqual(table.family, .inet)
        XCTAssertEqual(table.name, "t")
        XCTAssertTrue(table.owned)
        // Arriving segments at prerouting; this host's own, through a real interface, at output.
        XCTAssertEqual(table.chains.filter { $0.hook != nil }, [
            NFTChain(name: "prerouting", hook: .prerouting, priority: -150),
            NFTChain(name: "output", hook: .output, priority: -150),
        ])
        XCTAssertTrue(FaultPlan.defaultTableName(pid: 42) == "faultproxy_42")
    }

    func testScopeIsTCPToOrFromThePortInNetworkOrder() throws {
        let base = try table(["syn"]).rules.filter { $0.chain == "prerouting" }
        XCTAssertEqual(base.count, 2)
        // 7000 = 0x1b58: dport (offset 2) marks the segment as the client's, sport (offset 0) as the server's.
        XCTAssertEqual(Array(base[0].expressions.prefix(4)), [
            .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: [6]),
            .payload(base: .transport, offset: 2, length: 2, destination: .r0), .cmp(op: .eq, source: .r0, data: [0x1b, 0x58]),
        ])
        XCTAssertEqual(base[0].expressions.dropFirst(4), [
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: le(0x0000_ffff), xor: le(0x0001_0000)),
            .metaSet(key: .mark, source: .r0),
            .verdict(.goto("fault")),
        ])
        XCTAssertEqual(base[1].expressions[2], .payload(base: .transport, offset: 0, length: 2, destination: .r0))
        XCTAssertEqual(base[1].expressions[5], .bitwise(source: .r0, destination: .r0, mask: le(0x0000_ffff), xor: le(0)))
    }

    func testSynackTwoMakesExactlyTwoCountingDropRules() throws {
        let drops = rules(try table(["synack:2"]), comment: "drop synack")
        XCTAssertEqual(drops.count, 2)
        let flags: [NFTExpression] = [
            .payload(base: .transport, offset: 13, length: 1, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: [0x16], xor: [0]),  // syn|ack|rst
            .cmp(op: .eq, source: .r0, data: [0x12]),  // syn|ack
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: le(0x0001_0000), xor: le(0)),
            .cmp(op: .eq, source: .r0, data: le(0)),  // from the server
        ]
        // The count lives in state bits 8-9 (sets state_8, state_9); the second occurrence's rule
        // comes first: 1 → 2 clears bit 8 and sets bit 9, 0 → 1 clears bit 9 and sets bit 8.
        let id = NFTExpression.ct(key: .id, destination: .r0)
        let write: [[NFTExpression]] = [
            [id, .dynset(set: "state_8", op: .delete, keySource: .r0, timeoutMilliseconds: 0),
             id, .dynset(set: "state_9", op: .add, keySource: .r0, timeoutMilliseconds: 0)],
            [id, .dynset(set: "state_9", op: .delete, keySource: .r0, timeoutMilliseconds: 0),
             id, .dynset(set: "state_8", op: .add, keySource: .r0, timeoutMilliseconds: 0)],
        ]
        for (index, (rule, occurrence)) in zip(drops, [UInt32(1), 0]).enumerated() {
            XCTAssertEqual(rule.expressions, flags + connectionState(0x300, occurrence << 8) + [.counter]
                + write[index] + [.verdict(.goto("lose"))])
        }
    }

    func testOnlyTheKthDropsAndEarlierOnesCountOn() throws {
        let table = try table(["data@3"])
        let counting = table.rules.filter(writesState)
        XCTAssertEqual(counting.count, 3)
        XCTAssertEqual(counting.map(\.comment), ["drop data", nil, nil])
        XCTAssertEqual(counting.map { $0.expressions.last }, [
            .verdict(.goto("lose")),
            .dynset(set: "state_9", op: .add, keySource: .r0, timeoutMilliseconds: 0),  // 1 → 2
            .dynset(set: "state_8", op: .add, keySource: .r0, timeoutMilliseconds: 0),  // 0 → 1
        ])
        // Highest count first, so a rule that bumps 0 → 1 is not followed by the rule for 1.
        XCTAssertTrue(counting[0].expressions.starts(with: kindPrefix(counting[0]) + connectionState(0x300, 2 << 8)))
        XCTAssertTrue(counting[2].expressions.starts(with: kindPrefix(counting[2]) + connectionState(0x300, 0)))
    }

    /// The expressions before a rule's first state test.
    private func kindPrefix(_ rule: NFTRule) -> [NFTExpression] {
        Array(rule.expressions.prefix { $0 != .ct(key: .id, destination: .r0) })
    }

    /// Two tables on one port (two faultproxies) keep state in sets of their own and never write
    /// `ct mark`, so neither sees the other's counts (issue 12) and the user's marks stay theirs.
    func testConnectionStateLivesInTheTablesOwnSetsNotCTMark() throws {
        let table = try table(["synack:1", "fin", "handshake-ack"])
        XCTAssertFalse(table.rules.contains { $0.expressions.contains(.ct(key: .mark, destination: .r0)) })
        XCTAssertFalse(table.rules.contains { $0.expressions.contains(.ctSet(key: .mark, source: .r0)) })
        XCTAssertEqual(table.sets.map(\.name), ["state_0", "state_1", "state_2", "state_8"])
        XCTAssertTrue(table.sets.allSatisfy { $0.dynamic && $0.keyLength == 4 && $0.timeoutMilliseconds == 86_400_000 && $0.size == 1 << 20 })
    }

    func testFromNarrowsByPortDirection() throws {
        let client = rules(try table(["fin"], from: .client), comment: "drop fin")
        let server = rules(try table(["fin"], from: .server), comment: "drop fin")
        let fin = PacketClass.bit(for: .fin)!
        XCTAssertEqual(client.single?.expressions.prefix(3), [
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: le(fin | PacketClass.fromClient), xor: le(0)),
            .cmp(op: .eq, source: .r0, data: le(fin | PacketClass.fromClient)),
        ])
        XCTAssertEqual(server.single?.expressions[2], .cmp(op: .eq, source: .r0, data: le(fin)))
        let unnarrowed = rules(try table(["fin"]), comment: "drop fin")
        XCTAssertEqual(unnarrowed.single?.expressions[1], .bitwise(source: .r0, destination: .r0, mask: le(fin), xor: le(0)))
    }

    func testCounterFieldsFillTheFreeBitsThenFail() throws {
        // Bits 8-31 are free: eight 3-bit counts (0...7) fit exactly.
        XCTAssertNoThrow(try table(Array(repeating: "data:7", count: 8)))
        XCTAssertThrowsError(try table(Array(repeating: "data:7", count: 8) + ["fin:1"])) { error in
            XCTAssertEqual(
                (error as? FaultSpecError)?.description,
                "--drop fin:1 needs 1 bits of connection state to count to 1 but only 0 of 24 are left; use fewer or smaller counts"
            )
        }
        XCTAssertThrowsError(try table(["data:255", "syn:255", "synack:255", "fin:1"])) { error in
            XCTAssertEqual(
                (error as? FaultSpecError)?.description,
                "--drop fin:1 needs 1 bits of connection state to count to 1 but only 0 of 24 are left; use fewer or smaller counts"
            )
        }
    }

    func testLayoutAllocatesAdjacentFields() throws {
        var layout = CTMarkLayout()
        let first = try layout.allocate(maximum: 2, for: "a")
        let second = try layout.allocate(maximum: 15, for: "b")
        XCTAssertEqual([first.shift, first.width, first.maximum], [8, 2, 2])
        XCTAssertEqual([second.shift, second.width, second.maximum], [10, 4, 15])
        XCTAssertEqual(second.mask, 0x3c00)
    }

    func testCounterAllocationsNameTheirFaults() throws {
        let plan = FaultPlan(port: 1, drops: [DropSpec(.synack, .first(2)), DropSpec(.data, .only(5))], delays: [DelaySpec(.fin, .first(1), delay: .seconds(1))])
        XCTAssertEqual(try plan.counterAllocations().map(\.description), [
            "--drop synack:2: state bits 8-9 (mask 0x300, 0...2)",
            "--drop data@5: state bits 10-12 (mask 0x1c00, 0...5)",
            "--delay fin:1: state bits 13-13 (mask 0x2000, 0...1)",
        ])
    }

    func testValidationErrors() {
        let cases: [(FaultPlan, String)] = [
            (FaultPlan(port: 0, drops: [DropSpec(.syn)]), "port 0 is not a server port; give the port the server listens on"),
            (FaultPlan(port: 1), "nothing to do: give at least one --drop, --delay or --duplicate (or a log group to only watch)"),
            (FaultPlan(port: 1, drops: [DropSpec(.syn)], from: .server),
             "--drop syn with --from server: syn is only sent by the client, so it would never match"),
            (FaultPlan(port: 1, delays: [DelaySpec(.synack, .first(1), delay: .seconds(1))], from: .client),
             "--delay synack:1 with --from client: synack is only sent by the server, so it would never match"),
            (FaultPlan(port: 1, drops: [DropSpec(.syn)], tableName: "9lives"),
             "table name '9lives' must start with a letter and hold only letters, digits and '_' (at most 255)"),
            (FaultPlan(port: 1, drops: [DropSpec(.syn)], tableName: "a-b"),
             "table name 'a-b' must start with a letter and hold only letters, digits and '_' (at most 255)"),
        ]
        for (plan, message) in cases {
            XCTAssertThrowsError(try plan.linearize(), message) { error in
                XCTAssertEqual((error as? FaultSpecError)?.description, message)
            }
        }
        XCTAssertNoThrow(try FaultPlan(port: 1, logGroup: 3).linearize(), "watching alone is a plan")
    }

    func testDelaysQueueTaggedThroughXTablesByDefault() throws {
        var plan = FaultPlan(
            port: 7000, drops: [DropSpec(.syn)],
            delays: [try DelaySpec(parsing: "synack=300ms")], duplicates: [try DuplicateSpec(parsing: "data:1")], queueNumber: 4
        )
        XCTAssertEqual(plan.queuedFaults.map(\.tag), [1, 2])
        XCTAssertEqual(plan.queuedFaults.map(\.verb), ["delay", "duplicate"])
        var table = try plan.linearize()
        let delay = try XCTUnwrap(rules(table, comment: "delay synack").single)
        XCTAssertEqual(delay.expressions.suffix(4), [
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: le(0x0000_ffff), xor: le(1 << 16)),
            .metaSet(key: .mark, source: .r0),
            .xtQueue(number: 4, bypass: true),
        ])
        XCTAssertEqual(rules(table, comment: "duplicate data").single?.expressions.last, .xtQueue(number: 4, bypass: true))
        XCTAssertEqual(QueuedFault.tag(ofMark: 0x0002_0007), 2)
        // Drops come before queues: a segment both dropped and delayed is dropped.
        let order = table.rules.compactMap(\.comment)
        XCTAssertEqual(order, ["drop syn", "delay synack", "duplicate data"])

        plan.nativeQueue = true
        table = try plan.linearize()
        XCTAssertEqual(rules(table, comment: "delay synack").single?.expressions.last, .queue(number: 4, bypass: true))
    }

    func testLogGroupLogsBeforeEachVerdictAndAtTheEnd() throws {
        let table = try table(["synack:1", "data"], logGroup: 9)
        let synack = try XCTUnwrap(rules(table, comment: "drop synack").single)
        // Each log lends the mark the kernel's clock (meta time) and restores it: a host's own
        // segments, logged at output, get no NFLOG timestamp.
        XCTAssertEqual(synack.expressions.suffix(6), [
            .meta(key: .mark, destination: .r4), .meta(key: .timeNanoseconds, destination: .r2), .metaSet(key: .mark, source: .r2),
            .log(group: 9, prefix: "tcplab drop synack", queueThreshold: 0),
            .metaSet(key: .mark, source: .r4),
            .verdict(.goto("lose")),
        ])
        let tail = table.rules.filter { $0.chain == "fault" }.suffix(2).map(\.expressions)
        // Counted too: with the fault rules' counters, what the kernel logged (the timeline's loss count).
        XCTAssertEqual(table.rules.filter { $0.chain == "fault" }.suffix(2).first?.comment, "timeline pass")
        XCTAssertEqual(tail.first, [
            .counter,
            .meta(key: .mark, destination: .r4), .meta(key: .timeNanoseconds, destination: .r2), .metaSet(key: .mark, source: .r2),
            .log(group: 9, prefix: "tcplab pass", queueThreshold: 0),
            .metaSet(key: .mark, source: .r4),
        ])
        // The last rule clears the scratch bits so the segment leaves with the sender's own mark.
        XCTAssertEqual(tail.last, [
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: le(0x0000_ffff), xor: le(0)),
            .metaSet(key: .mark, source: .r0),
        ])
        XCTAssertFalse(try self.table(["data"]).rules.contains { $0.expressions.contains { if case .log = $0 { true } else { false } } })
    }

    func testWithThePacketRingOnlyThisHostsOwnPassingSegmentsAreLogged() throws {
        var plan = FaultPlan(port: 7000, drops: [try DropSpec(parsing: "synack:1")], duplicates: [DuplicateSpec(.syn, .first(1))],
                             logGroup: 9, tableName: "t")
        plan.logsArrivals = false
        let table = try plan.linearize()
        let pass = try XCTUnwrap(table.rules.first { $0.comment == "timeline pass" })
        // The exit's log matches the `local` packet class first: what this host sends through a
        // real interface (the output hook), which the ring leaves out.
        XCTAssertEqual(Array(pass.expressions.prefix(4)), [
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: le(PacketClass.local), xor: le(0)),
            .cmp(op: .eq, source: .r0, data: le(PacketClass.local)),
            .counter,
        ])
        func logs(_ rule: NFTRule) -> Bool { rule.expressions.contains { if case .log = $0 { true } else { false } } }
        let copies = table.rules.filter { $0.comment == "timeline copy" }
        XCTAssertEqual(copies.map(\.chain), ["output", "output"], "a duplicate's copy is logged only as it leaves this host")
        XCTAssertTrue(copies.allSatisfy(logs))
        XCTAssertEqual(table.rules.filter { $0.chain == "prerouting" && logs($0) }.count, 0, "the ring sees every arrival")
        XCTAssertTrue(try XCTUnwrap(table.rules.first { $0.comment == "drop synack" }).expressions.contains(.log(group: 9, prefix: "tcplab drop synack", queueThreshold: 0)),
                      "a fault's verdict is still logged")
    }

    func testProbabilityUsesNumgenAndTheSeedFixesTheFirstOccurrences() throws {
        let unseeded = try table(["data%0.3"])
        XCTAssertEqual(rules(unseeded, comment: "drop data").single?.expressions.contains(
            .cmp(op: .lt, source: .r0, data: [0x00, 0x04, 0x93, 0xe0])  // 300000 big-endian after hton
        ), true)

        var plan = FaultPlan(port: 7000, drops: [DropSpec(.data, .probability(0.5))], tableName: "t", seed: 7)
        let seeded = try plan.linearize()
        XCTAssertEqual(seeded, try plan.linearize(), "same seed, same rules")
        let pattern = SeededPattern(seed: 7, salt: 0, probability: 0.5)
        // One random rule for occurrence 16 on, then one rule per seeded occurrence.
        let counting = seeded.rules.filter(writesState)
        XCTAssertEqual(counting.count, SeededPattern.length)
        XCTAssertEqual(counting.filter { $0.comment == "drop data" }.count, pattern.drops.filter { $0 }.count)
        XCTAssertEqual(rules(seeded, comment: "drop data").count, pattern.drops.filter { $0 }.count + 1)
        plan.seed = 8
        XCTAssertNotEqual(try plan.linearize(), seeded)
        XCTAssertNotEqual(SeededPattern(seed: 7, salt: 0, probability: 0.5), SeededPattern(seed: 8, salt: 0, probability: 0.5))
        XCTAssertEqual(SeededPattern(seed: 1, salt: 0, probability: 1).drops, Array(repeating: true, count: 15))
    }

    func testKeepaliveUsesARecentSetKeyedByConntrackID() throws {
        let table = try table(["keepalive-ack"])
        XCTAssertEqual(table.sets.first, NFTSet(name: "recent", keyLength: 4, dynamic: true, timeoutMilliseconds: 500))
        XCTAssertTrue(table.sets.dropFirst().allSatisfy { $0.name.hasPrefix("state_") }, "\(table.sets.map(\.name))")
        let fault = table.rules.filter { $0.chain == "fault" }.map(\.expressions)
        XCTAssertTrue(fault.contains([.ct(key: .id, destination: .r0), .dynset(set: "recent", op: .update, keySource: .r0, timeoutMilliseconds: 500)]))
        XCTAssertTrue(fault.contains { $0.starts(with: [.meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: [6]), .ct(key: .id, destination: .r0), .lookup(set: "recent", source: .r0, invert: true)]) })
        XCTAssertEqual(table.chains.map(\.name), ["prerouting", "output", "fault", "lose", "empty"])
    }

    func testEmptinessIsOneRulePerDataOffsetAndFamily() throws {
        let empty = try table(["data"]).rules.filter { $0.chain == "empty" }
        XCTAssertEqual(empty.count, 22)
        // doff 8 (timestamps) over IPv4: 20 + 32 bytes.
        XCTAssertTrue(empty.contains { $0.expressions.contains(.cmp(op: .eq, source: .r0, data: le(52))) && $0.expressions.contains(.cmp(op: .eq, source: .r0, data: [0x80])) })
        XCTAssertTrue(empty.allSatisfy { $0.expressions.last == .verdict(.return) })
        XCTAssertTrue(try table(["syn", "synack", "rst", "any"]).rules.allSatisfy { $0.chain != "empty" }, "no payload test when no fault needs it")
    }

    func testStatefulKindsOnlyAppearWhenNeeded() throws {
        let plain = try table(["syn"])
        XCTAssertFalse(plain.rules.contains(where: writesState))
        XCTAssertTrue(plain.sets.isEmpty)
    }
}

private extension Array {
    var single: Element? { count == 1 ? first : nil }
}
