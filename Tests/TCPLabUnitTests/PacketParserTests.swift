import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import XCTest

/// Fixtures are real packets from `tcpdump -i lo` on this kernel (hex from the network header
/// on), each with its tcpdump line; hand-built ones say so.
final class PacketParserTests: XCTestCase {
    // IP 127.0.0.1.44164 > 127.0.0.1.5555: Flags [S], seq 2381303254, win 65495,
    //   options [mss 65495,sackOK,TS val 791501218 ecr 0,nop,wscale 10], length 0
    static let ipv4SYN = hex("""
        4500003c 72aa4000 4006ca0f 7f000001 7f000001
        ac8415b3 8defcdd6 00000000 a002ffd7 fe300000
        0204ffd7 0402 080a2f2d59a200000000 01 03030a
        """)
    // IP 127.0.0.1.5555 > 127.0.0.1.44164: Flags [S.], seq 4103745573, ack 2381303255, win 65483,
    //   options [mss 65495,sackOK,TS val 295070971 ecr 791501218,nop,wscale 10], length 0
    static let ipv4SYNACK = hex("""
        4500003c 00004000 40063cba 7f000001 7f000001
        15b3ac84 f49a3025 8defcdd7 a012ffcb fe300000
        0204ffd7 0402 080a11966cfb2f2d59a2 01 03030a
        """)
    // IP 127.0.0.1.44164 > 127.0.0.1.5555: Flags [P.], seq 2381303255:2381303257, ack 4103745574, win 64,
    //   options [nop,nop,TS val 791501218 ecr 295070971], length 2
    static let ipv4Data = hex("""
        45000036 72ac4000 4006ca13 7f000001 7f000001
        ac8415b3 8defcdd7 f49a3026 80180040 fe2a0000
        01 01 080a2f2d59a211966cfb
        6869
        """)
    // IP6 ::1.40222 > ::1.5555: Flags [S], seq 3226667753, win 65476,
    //   options [mss 65476,sackOK,TS val 994444529 ecr 0,nop,wscale 10], length 0
    static let ipv6SYN = hex("""
        6005bf9a 0028 06 40 00000000000000000000000000000001 00000000000000000000000000000001
        9d1e15b3 c0530ae9 00000000 a002ffc4 00300000
        0204ffc4 0402 080a3b4604f100000000 01 03030a
        """)

    func testIPv4SYNWithEveryHandshakeOption() throws {
        let segment = try PacketParser.parse(Self.ipv4SYN)
        XCTAssertEqual(segment.ipVersion, 4)
        XCTAssertEqual(segment.source.description, "127.0.0.1:44164")
        XCTAssertEqual(segment.destination.description, "127.0.0.1:5555")
        XCTAssertEqual(segment.sequence, 2_381_303_254)
        XCTAssertEqual(segment.acknowledgment, 0)
        XCTAssertEqual(segment.flags, [.syn])
        XCTAssertEqual(segment.flags.description, "S")
        XCTAssertEqual(segment.window, 65495)
        XCTAssertEqual(segment.dataOffset, 10)
        XCTAssertEqual(segment.payloadLength, 0)
        XCTAssertEqual(segment.sequenceLength, 1)
        XCTAssertEqual(segment.options, [
            .maximumSegmentSize(65495), .sackPermitted, .timestamps(value: 791_501_218, echoReply: 0),
            .noOperation, .windowScale(10),
        ])
        XCTAssertEqual(segment.options.map(\.tcpdumpText).joined(separator: ","),
                       "mss 65495,sackOK,TS val 791501218 ecr 0,nop,wscale 10")
        XCTAssertEqual(segment.maximumSegmentSize, 65495)
        XCTAssertEqual(segment.windowScale, 10)
        XCTAssertTrue(segment.sackPermitted)
        XCTAssertEqual(segment.timestamps?.value, 791_501_218)
    }

    func testIPv4SYNACK() throws {
        let segment = try PacketParser.parse(Self.ipv4SYNACK)
        XCTAssertEqual(segment.flags.description, "S.")
        XCTAssertEqual(segment.sequence, 4_103_745_573)
        XCTAssertEqual(segment.acknowledgment, 2_381_303_255)
        XCTAssertEqual(segment.timestamps?.echoReply, 791_501_218)
    }

    func testIPv4DataSegment() throws {
        let segment = try PacketParser.parse(Self.ipv4Data)
        XCTAssertEqual(segment.flags.description, "P.")
        XCTAssertEqual(segment.payloadLength, 2)
        XCTAssertEqual(segment.sequenceLength, 2)
        XCTAssertEqual(segment.window, 64)
        XCTAssertEqual(segment.options, [.noOperation, .noOperation, .timestamps(value: 791_501_218, echoReply: 295_070_971)])
    }

    func testIPv6SYN() throws {
        let segment = try PacketParser.parse(Self.ipv6SYN)
        XCTAssertEqual(segment.ipVersion, 6)
        XCTAssertEqual(segment.source.description, "[::1]:40222")
        XCTAssertEqual(segment.destination.port, 5555)
        XCTAssertEqual(segment.sequence, 3_226_667_753)
        XCTAssertEqual(segment.maximumSegmentSize, 65476)
    }

    /// Hand-built: the IPv6 SYN with an 8-byte hop-by-hop header (PadN) in front of TCP.
    func testIPv6ExtensionHeaderIsSkipped() throws {
        var packet = Self.ipv6SYN
        packet[4...5] = [0x00, 0x30]         // payload length 40 + 8
        packet[6] = 0                        // next header: hop-by-hop
        packet.insert(contentsOf: [6, 0, 1, 4, 0, 0, 0, 0], at: 40)  // next TCP, len 0, PadN(4)
        let segment = try PacketParser.parse(packet)
        XCTAssertEqual(segment.sequence, 3_226_667_753)
        XCTAssertEqual(segment.payloadLength, 0)
    }

    /// Hand-built options: IP ... Flags [.], options [nop,nop,sack 2 {100:200}{300:400},unknown-254 2,eol]
    func testSACKBlocksUnknownKindAndEndOfList() throws {
        let options: [UInt8] = [
            1, 1,
            5, 18, 0, 0, 0, 100, 0, 0, 0, 200, 0, 0, 1, 0x2C, 0, 0, 1, 0x90,  // sack {100:200}{300:400}
            254, 4, 0xF9, 0x89,                                                  // experimental kind, kept
            0, 0,                                                                // eol + padding
        ]
        XCTAssertEqual(try PacketParser.parseOptions(options), [
            .noOperation, .noOperation,
            .sack([SACKBlock(left: 100, right: 200), SACKBlock(left: 300, right: 400)]),
            .unknown(kind: 254, data: [0xF9, 0x89]),
            .endOfList,
        ])
        XCTAssertEqual(TCPOption.sack([SACKBlock(left: 100, right: 200)]).tcpdumpText, "sack 1 {100:200}")
    }

    func testMalformedInputThrows() {
        XCTAssertThrowsError(try PacketParser.parse([])) { XCTAssertEqual($0 as? PacketParseError, .truncated(layer: "IP", needed: 1, available: 0)) }
        XCTAssertThrowsError(try PacketParser.parse(Array(Self.ipv4SYN.prefix(19))))
        XCTAssertThrowsError(try PacketParser.parse(Array(Self.ipv4SYN.prefix(30)))) {
            XCTAssertEqual($0 as? PacketParseError, .truncated(layer: "TCP", needed: 40, available: 30))
        }
        var badIHL = Self.ipv4SYN; badIHL[0] = 0x44
        XCTAssertEqual(error(badIHL), .badHeaderLength(layer: "IPv4", value: 16))
        var version5 = Self.ipv4SYN; version5[0] = 0x55
        XCTAssertEqual(error(version5), .unsupportedIPVersion(5))
        var udp = Self.ipv4SYN; udp[9] = 17
        XCTAssertEqual(error(udp), .notTCP(protocolNumber: 17))
        var fragment = Self.ipv4SYN; fragment[6...7] = [0x00, 0x10]
        XCTAssertEqual(error(fragment), .fragment)
        var shortDataOffset = Self.ipv4SYN; shortDataOffset[32] = 0x40
        XCTAssertEqual(error(shortDataOffset), .badHeaderLength(layer: "TCP", value: 16))
        var shortTotal = Self.ipv4SYN; shortTotal[2...3] = [0x00, 0x20]  // 32 < 20 + 40
        XCTAssertEqual(error(shortTotal), .badHeaderLength(layer: "TCP", value: 40))
        XCTAssertThrowsError(try PacketParser.parseOptions([2, 4, 0xFF])) { XCTAssertEqual($0 as? PacketParseError, .badOption(kind: 2, offset: 0)) }
        XCTAssertThrowsError(try PacketParser.parseOptions([1, 8, 1]))   // length 1
        XCTAssertThrowsError(try PacketParser.parseOptions([3, 4, 7, 0])) // wscale must be 3 long
        XCTAssertThrowsError(try PacketParser.parseOptions([5, 6, 0, 0, 0, 0])) // sack: 2 + 8n bytes
        XCTAssertThrowsError(try PacketParser.parseOptions([8]))
    }

    /// Every prefix and many random corruptions of real packets either parse or throw.
    func testNoInputCrashes() {
        var generator = SplitMix64(seed: 42)
        for fixture in [Self.ipv4SYN, Self.ipv4SYNACK, Self.ipv4Data, Self.ipv6SYN] {
            for length in 0...fixture.count { _ = try? PacketParser.parse(Array(fixture.prefix(length))) }
            for _ in 0..<2000 {
                var packet = fixture
                for _ in 0..<3 { packet[Int(generator.next() % UInt64(packet.count))] = UInt8(truncatingIfNeeded: generator.next()) }
                _ = try? PacketParser.parse(packet)
            }
        }
    }

    private func error(_ packet: [UInt8]) -> PacketParseError? {
        do { _ = try PacketParser.parse(packet); return nil } catch { return error }
    }
}

/// "4500 003c ..." → bytes; whitespace ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { $0.isHexDigit })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}


