import CNetfilter
import XCTest
@testable import TCPLabNetlink

/// Every IR expression goes IR → libnftnl objects → NFT_MSG_NEWRULE bytes → libnftnl's parser
/// → IR and must come back equal. No kernel involved.
final class NFTablesRoundTripTests: XCTestCase {
    /// One of each case, with the operands faultproxy uses.
    static let everyExpression: [NFTExpression] = [
        // tcp dport 7000: 2 bytes at transport header + 2, port in network order
        .payload(base: .transport, offset: 2, length: 2, destination: .r0),
        .payload(base: .network, offset: 12, length: 4, destination: .r32(2)),
        .meta(key: .l4proto, destination: .r0),
        .meta(key: .nfproto, destination: .r1),
        .metaSet(key: .mark, source: .r0),
        .ct(key: .mark, destination: .r0),
        .ct(key: .direction, direction: .reply, destination: .r0),
        .ctSet(key: .mark, source: .r0),
        .cmp(op: .eq, source: .r0, data: [0x1b, 0x58]),
        .cmp(op: .lte, source: .r1, data: [0, 0, 0, 0, 0, 0, 0, 3]),
        // ct mark set ct mark | 0x1
        .bitwise(source: .r0, destination: .r0, mask: [0xfe, 0xff, 0xff, 0xff], xor: [0x01, 0, 0, 0]),
        .byteorder(source: .r0, destination: .r0, op: .hton, length: 8, size: 8),
        .immediate(destination: .r0, data: [0x01, 0, 0, 0]),
        .verdict(.accept),
        .verdict(.drop),
        .verdict(.continue),
        .verdict(.return),
        .verdict(.jump("other")),
        .verdict(.goto("other")),
        .counter,
        .log(group: 7, prefix: "tcplab drop ", queueThreshold: 1),
        .log(group: 0, prefix: "", queueThreshold: 0),
        .lookup(set: "ports", source: .r0, invert: false),
        .lookup(set: "ports", source: .r0, invert: true),
        .dynset(set: "seen", op: .update, keySource: .r0, timeoutMilliseconds: 2_000),
        .dynset(set: "seen", op: .add, keySource: .r1, timeoutMilliseconds: 0),
        .dynset(set: "seen", op: .delete, keySource: .r1, timeoutMilliseconds: 0),
        .numgenRandom(modulus: 10, destination: .r0),
        .xtQueue(number: 3, bypass: true),
        .xtQueue(number: 65535, bypass: false),
        .queue(number: 2, bypass: true),
        .queue(number: 0, bypass: false),
    ]

    private func roundTrip(_ rule: NFTRule, file: StaticString = #filePath, line: UInt = #line) throws -> NFTRule {
        let built = try LibnftnlRule.make(rule, table: "tcplab", family: .inet)
        let bytes = built.newRuleMessage(family: .inet)
        XCTAssertGreaterThan(bytes.count, 20, "message has a payload", file: file, line: line)
        let parsed = try LibnftnlRule.parsing(bytes: bytes)
        XCTAssertEqual(parsed.table, "tcplab", file: file, line: line)
        XCTAssertEqual(parsed.family, NFTTable.Family.inet.rawValue, file: file, line: line)
        return try parsed.decoded()
    }

    func testEveryExpressionSurvivesTheWireFormat() throws {
        for expression in Self.everyExpression {
            let rule = NFTRule(chain: "prerouting", expressions: [expression])
            XCTAssertEqual(try roundTrip(rule), rule, "\(expression)")
        }
    }

    func testWholeRuleWithCommentSurvivesTheWireFormat() throws {
        // tcp dport 7000 ct mark & 0x1 == 0 ct mark set ct mark | 0x1 counter drop comment "drop synack"
        let rule = NFTRule(chain: "prerouting", expressions: [
            .meta(key: .l4proto, destination: .r0),
            .cmp(op: .eq, source: .r0, data: [6]),
            .payload(base: .transport, offset: 2, length: 2, destination: .r0),
            .cmp(op: .eq, source: .r0, data: [0x1b, 0x58]),
            .ct(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: [1, 0, 0, 0], xor: [0, 0, 0, 0]),
            .cmp(op: .eq, source: .r0, data: [0, 0, 0, 0]),
            .ct(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: [0xfe, 0xff, 0xff, 0xff], xor: [1, 0, 0, 0]),
            .ctSet(key: .mark, source: .r0),
            .counter,
            .log(group: 5, prefix: "synack ", queueThreshold: 1),
            .verdict(.drop),
        ], comment: "drop synack")
        XCTAssertEqual(try roundTrip(rule), rule)
    }

    func testAllExpressionsInOneRule() throws {
        let rule = NFTRule(chain: "c", expressions: Self.everyExpression, comment: "all of them")
        XCTAssertEqual(try roundTrip(rule), rule)
    }

    func testCommentIsNftsUserDataTLV() throws {
        let built = try LibnftnlRule.make(NFTRule(chain: "c", expressions: [], comment: "hi"), table: "t", family: .inet)
        XCTAssertEqual(built.comment, "hi")
        // NFTNL_UDATA_RULE_COMMENT (0), length 3, "hi\0": what nft writes and `nft list` reads.
        let bytes = built.newRuleMessage(family: .inet)
        let tlv: [UInt8] = [0x00, 0x03, 0x68, 0x69, 0x00]
        XCTAssertNotNil(bytes.firstRange(of: tlv), "comment TLV in the message")
    }

    func testTooLongCommentIsRefusedBeforeTheKernel() {
        let rule = NFTRule(chain: "c", expressions: [], comment: String(repeating: "x", count: 200))
        do {
            _ = try LibnftnlRule.make(rule, table: "t", family: .inet)
            XCTFail("a 200-byte comment was accepted")
        } catch {
            guard case .invalidRule = error else { return XCTFail("\(error)") }
        }
    }

    /// The IR's key numbers are the kernel's: a wrong one still round-trips through libnftnl
    /// (both directions agree), so only the uapi header can catch it. `ct id` once carried 22,
    /// NFT_CT_DST_IP6, and the kernel refused every `ct id` rule with EINVAL (no direction).
    func testKeyNumbersAreTheKernelHeaders() {
        let ctKeys: [(NFTExpression.CTKey, UInt32)] = [
            (.state, NFT_CT_STATE.rawValue), (.direction, NFT_CT_DIRECTION.rawValue),
            (.status, NFT_CT_STATUS.rawValue), (.mark, NFT_CT_MARK.rawValue), (.id, NFT_CT_ID.rawValue),
        ]
        for (key, header) in ctKeys { XCTAssertEqual(key.rawValue, header, "ct \(key)") }
        let metaKeys: [(NFTExpression.MetaKey, UInt32)] = [
            (.length, NFT_META_LEN.rawValue), (.nfproto, NFT_META_NFPROTO.rawValue),
            (.l4proto, NFT_META_L4PROTO.rawValue), (.mark, NFT_META_MARK.rawValue),
        ]
        for (key, header) in metaKeys { XCTAssertEqual(key.rawValue, header, "meta \(key)") }
        let cmpOps: [(NFTExpression.CmpOp, UInt32)] = [
            (.eq, NFT_CMP_EQ.rawValue), (.neq, NFT_CMP_NEQ.rawValue), (.lt, NFT_CMP_LT.rawValue),
            (.lte, NFT_CMP_LTE.rawValue), (.gt, NFT_CMP_GT.rawValue), (.gte, NFT_CMP_GTE.rawValue),
        ]
        for (op, header) in cmpOps { XCTAssertEqual(op.rawValue, header, "cmp \(op)") }
        XCTAssertEqual(NFTExpression.DynsetOp.add.rawValue, NFT_DYNSET_OP_ADD.rawValue)
        XCTAssertEqual(NFTExpression.DynsetOp.update.rawValue, NFT_DYNSET_OP_UPDATE.rawValue)
        XCTAssertEqual(NFTExpression.DynsetOp.delete.rawValue, NFT_DYNSET_OP_DELETE.rawValue)
        XCTAssertEqual(NFTExpression.ByteorderOp.hton.rawValue, NFT_BYTEORDER_HTON.rawValue)
        XCTAssertEqual(NFTExpression.PayloadBase.transport.rawValue, NFT_PAYLOAD_TRANSPORT_HEADER.rawValue)
    }

    func testKernelRegisterNumbersMapBackTo32BitRegisters() {
        // The kernel dumps NFT_REG32_00 as NFT_REG_1 and NFT_REG32_04 as NFT_REG_2.
        XCTAssertEqual(NFTRegister(kernelDump: 0), .verdict)
        XCTAssertEqual(NFTRegister(kernelDump: 1), .r32(0))
        XCTAssertEqual(NFTRegister(kernelDump: 2), .r32(4))
        XCTAssertEqual(NFTRegister(kernelDump: 9), .r32(1))
    }

    func testXTQueueInfoLayout() {
        // struct xt_NFQ_info_v3 { u16 queuenum; u16 queues_total; u16 flags; } in host order
        let info = XTQueueInfo(queueNumber: 0x0102, queuesTotal: 1, bypass: true)
        let buffer = info.mallocCopy()
        defer { free(buffer) }
        let bytes = Array(UnsafeRawBufferPointer(start: buffer, count: XTQueueInfo.size))
        XCTAssertEqual(bytes, [0x02, 0x01, 0x01, 0x00, 0x01, 0x00])
        XCTAssertEqual(XTQueueInfo(bytes: UnsafeRawBufferPointer(start: buffer, count: 6)), info)
    }
}
