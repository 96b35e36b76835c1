import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import XCTest

/// A held segment shown twice: the delay rule logs it when it takes it ("tcplab delay"), the
/// release chain when its NF_ACCEPT resumes the hook at the next base chain ("tcplab release").
final class DelayReleaseTests: XCTestCase {
    private func le(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    private func plan(logGroup: UInt16? = 7000) -> FaultPlan {
        FaultPlan(port: 7000, delays: [DelaySpec(.synack, delay: .milliseconds(300))],
                  duplicates: [DuplicateSpec(.syn, copyDelay: .milliseconds(500))], logGroup: logGroup, tableName: "t")
    }

    // MARK: rules

    func testTheReleaseChainIsTheNextBaseChainOnTheSameHook() throws {
        let table = try plan().linearize()
        XCTAssertEqual(table.chains.filter { $0.hook != nil }, [
            NFTChain(name: "prerouting", hook: .prerouting, priority: -150),
            NFTChain(name: "output", hook: .output, priority: -150),
            NFTChain(name: "release", hook: .prerouting, priority: -149),
            NFTChain(name: "release_output", hook: .output, priority: -149),
        ])
        let onlyDrops = try FaultPlan(port: 7000, drops: [DropSpec(.syn)], logGroup: 1, tableName: "t").linearize()
        XCTAssertFalse(onlyDrops.chains.contains { $0.name == "release" }, "no delay, nothing is ever released")
        let onlyDuplicates = try FaultPlan(port: 7000, duplicates: [DuplicateSpec(.syn)], logGroup: 1, tableName: "t").linearize()
        XCTAssertFalse(onlyDuplicates.chains.contains { $0.name == "release" }, "a duplicate's verdict clears its tag")
    }

    /// What `nft --debug=netlink add rule inet t release meta l4proto tcp tcp dport 7000
    /// meta mark & 0xffff0000 == 0x00010000 log prefix "tcplab release synack 300ms" group 7000
    /// meta mark set meta mark & 0x0000ffff` printed on this machine, with a counter (the timeline's
    /// exact loss count) and the log stamped (the mark saved in reg 4, meta time's low half lent
    /// to it for the log).
    func testReleaseRuleExpressionListMatchesNft() throws {
        let rules = try plan().linearize().rules.filter { $0.chain == "release" }
        XCTAssertEqual(rules.count, 2, "one per direction, for the one delay (the duplicate has none)")
        XCTAssertEqual(rules[0].expressions, [
            .meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: [6]),
            .payload(base: .transport, offset: 2, length: 2, destination: .r0), .cmp(op: .eq, source: .r0, data: [0x1b, 0x58]),
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: le(0xffff_0000), xor: le(0)),
            .cmp(op: .eq, source: .r0, data: le(0x0001_0000)),
            .counter,
            .meta(key: .mark, destination: .r4), .meta(key: .timeNanoseconds, destination: .r2), .metaSet(key: .mark, source: .r2),
            .log(group: 7000, prefix: "tcplab release synack 300ms", queueThreshold: 0),
            .metaSet(key: .mark, source: .r4),
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: le(0x0000_ffff), xor: le(0)),
            .metaSet(key: .mark, source: .r0),
        ])
        XCTAssertEqual(rules[1].expressions[2], .payload(base: .transport, offset: 0, length: 2, destination: .r0), "sport")
        XCTAssertEqual(rules[0].comment, "timeline release", "counted for the timeline, not by the drop and delay reports")
    }

    func testWithoutATimelineTheReleaseChainOnlyClearsTheTag() throws {
        let rules = try plan(logGroup: nil).linearize().rules.filter { $0.chain == "release" }
        XCTAssertEqual(rules.count, 2)
        XCTAssertFalse(rules.flatMap(\.expressions).contains { if case .log = $0 { true } else { false } })
        XCTAssertEqual(rules[0].expressions.last, .metaSet(key: .mark, source: .r0))
    }

    func testTheRenderedRuleReadsLikeNft() throws {
        let text = NFTSyntaxRenderer.render(try plan().linearize())
        XCTAssertTrue(text.contains("type filter hook prerouting priority -149; policy accept;"), text)
        XCTAssertTrue(text.contains(
            "meta l4proto tcp tcp dport 7000 meta mark & 0xffff0000 == 0x00010000 counter log prefix \"tcplab release synack 300ms\" group 7000 meta mark set meta mark & 0x0000ffff"
        ), text)
    }

    /// The queue reader's NF_ACCEPT mark: a delay keeps its tag for the release chain, a
    /// duplicate's original and copy leave clear (so no "release" line for them).
    func testVerdictMarkKeepsOnlyADelaysTag() {
        let faults = plan().queuedFaults
        XCTAssertEqual(faults.map(\.tag), [1, 2])
        let delayMark: UInt32 = 0x0001_0000 | 0x42
        XCTAssertEqual(faults[0].verdictMark(for: delayMark), 0x0001_0042)
        XCTAssertEqual(faults[1].verdictMark(for: 0x0002_0000 | 0x42), 0x42)
    }

    // MARK: prefixes

    func testReleasePrefixParses() throws {
        let parsed = try XCTUnwrap(FaultTag(logPrefix: "tcplab release synack 300ms"))
        XCTAssertEqual(parsed.fate, .released)
        XCTAssertEqual(parsed.kind, .synack)
        let timing = try XCTUnwrap(FaultTag(logPrefix: "tcplab release data 100ms~5ms")?.timingMicroseconds)
        XCTAssertEqual(timing.delay, 100_000)
        XCTAssertEqual(timing.jitter, 5_000)
    }

    // MARK: timeline

    /// IPv4 127.0.0.1 ↔ 127.0.0.1, 20-byte TCP header, TCP checksum `checksum`.
    static func packet(sport: UInt16, dport: UInt16, seq: UInt32, ack: UInt32, flags: UInt8, checksum: UInt16 = 0) -> [UInt8] {
        func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        let ip: [UInt8] = [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
        return ip + be16(sport) + be16(dport) + be32(seq) + be32(ack) + [0x50, flags] + be16(0xffff) + be16(checksum) + [0, 0]
    }

    static func segment(_ t: Int64, _ prefix: String, _ packet: [UInt8]) throws -> CapturedSegment {
        try CapturedSegment(record: NFLogRecord(group: 7000, family: 2, timestampMicroseconds: 1_000_000 + t, prefix: prefix, packet: packet))
    }

    /// SYN; SYN-ACK held (logged with loopback's partial checksum); the client retransmits its
    /// SYN meanwhile; the SYN-ACK released (full checksum); the handshake ACK.
    func handshake() throws -> [TimelineEvent] {
        let syn = Self.packet(sport: 40000, dport: 7000, seq: 100, ack: 0, flags: 0x02)
        return try TimelineBuilder.build([
            Self.segment(0, "tcplab pass", syn),
            Self.segment(30, "tcplab delay synack 300ms", Self.packet(sport: 7000, dport: 40000, seq: 900, ack: 101, flags: 0x12, checksum: 0xfe30)),
            Self.segment(200_000, "tcplab pass", syn),
            Self.segment(300_442, "tcplab release synack 300ms", Self.packet(sport: 7000, dport: 40000, seq: 900, ack: 101, flags: 0x12, checksum: 0x1c2d)),
            Self.segment(300_500, "tcplab pass", Self.packet(sport: 40000, dport: 7000, seq: 101, ack: 901, flags: 0x10)),
        ], serverPorts: [7000])
    }

    func testTheReleaseIsTheHeldSegmentAgainNotARetransmission() throws {
        let events = try handshake()
        XCTAssertEqual(events.map(\.fate), [.passed, .delayed, .passed, .released, .passed])
        XCTAssertEqual(events.map(\.kind), [.syn, .synack, .syn, .synack, .handshakeAck])
        let (held, released) = (events[1], events[3])
        XCTAssertFalse(released.retransmission, "the same segment going on, not a second copy")
        XCTAssertEqual(released.heldMicroseconds, 300_412)
        XCTAssertNil(held.heldMicroseconds)
        XCTAssertEqual(released.offsetMicroseconds, 300_442)
        XCTAssertEqual(released.timeUnixMicroseconds, 1_300_442)
        XCTAssertEqual(released.faultKind, .synack)
        XCTAssertEqual(released.faultDelayMicroseconds, 300_000)
        XCTAssertEqual(released.sequenceRelative, held.sequenceRelative)
        XCTAssertEqual(released.acknowledgmentRelative, 1)
        XCTAssertTrue(released.summary.hasSuffix("[synack] ⧖ released (held 300.4 ms)"), released.summary)
        XCTAssertTrue(held.summary.hasSuffix("[synack] ⧖ delayed 300 ms"), held.summary)
        let json = String(decoding: try JSONEncoder().encode(released), as: UTF8.self)
        XCTAssertTrue(json.contains("\"fate\":\"released\""), json)
        XCTAssertTrue(json.contains("\"held_us\":300412"), json)
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(held), as: UTF8.self).contains("held_us"))
    }

    func testTwoIdenticalHeldSegmentsAreReleasedInOrder() throws {
        let syn = Self.packet(sport: 40000, dport: 7000, seq: 100, ack: 0, flags: 0x02)
        let events = try TimelineBuilder.build([
            Self.segment(0, "tcplab delay syn 1s", syn),
            Self.segment(1_000_000, "tcplab delay syn 1s", syn),
            Self.segment(1_000_100, "tcplab release syn 1s", syn),
            Self.segment(2_000_100, "tcplab release syn 1s", syn),
        ], serverPorts: [7000])
        XCTAssertEqual(events.map(\.fate), [.delayed, .delayed, .released, .released])
        XCTAssertEqual(events.map(\.heldMicroseconds), [nil, nil, 1_000_100, 1_000_100])
        // The second SYN is the first one's retransmission; each release is classified as its hold.
        XCTAssertEqual(events.map(\.retransmission), [false, true, false, true])
    }

    /// A fail-open queue (full) passes the segment at once: the release may carry the hold's
    /// very timestamp and must not overwrite the "delayed" event.
    func testAReleaseAtTheSameMicrosecondIsStillASecondEvent() throws {
        let synAck = Self.packet(sport: 7000, dport: 40000, seq: 900, ack: 101, flags: 0x12)
        let events = try TimelineBuilder.build([
            Self.segment(0, "tcplab pass", Self.packet(sport: 40000, dport: 7000, seq: 100, ack: 0, flags: 0x02)),
            Self.segment(10, "tcplab delay synack 300ms", synAck),
            Self.segment(10, "tcplab release synack 300ms", synAck),
        ], serverPorts: [7000])
        XCTAssertEqual(events.map(\.fate), [.passed, .delayed, .released])
        XCTAssertEqual(events.last?.heldMicroseconds, 0)
    }

    func testAReleaseWhoseHoldWasNotSeenIsClassifiedOnItsOwn() throws {
        let events = try TimelineBuilder.build([
            Self.segment(0, "tcplab release synack 300ms", Self.packet(sport: 7000, dport: 40000, seq: 900, ack: 101, flags: 0x12)),
        ], serverPorts: [7000])
        XCTAssertEqual(events.map(\.fate), [.released])
        XCTAssertEqual(events.first?.kind, .synack)
        XCTAssertNil(events.first?.heldMicroseconds)
        XCTAssertTrue(events.first?.summary.hasSuffix("⧖ released") == true, events.first?.summary ?? "")
    }

    func testTheLadderShowsTheHoldAndTheRelease() throws {
        let lines = LadderView().render(events: try handshake()).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 6)
        XCTAssertTrue(lines[2].hasPrefix("+0.000030s"), lines[2])
        XCTAssertTrue(lines[2].contains("⧖─"), "a held segment has not arrived: \(lines[2])")
        XCTAssertTrue(lines[2].hasSuffix("S. seq 0 ack 1 synack ⧖ delayed 300 ms"), lines[2])
        XCTAssertTrue(lines[4].hasPrefix("+0.300442s"), lines[4])
        XCTAssertTrue(lines[4].contains("◀─"), lines[4])
        XCTAssertTrue(lines[4].hasSuffix("S. seq 0 ack 1 synack ⧖ released (held 300.4 ms)"), lines[4])
    }
}
