import XCTest
@testable import TCPLabNetlink

/// The layout of an install transaction, read back from the bytes that would be sent.
final class NFTablesBatchTests: XCTestCase {
    let table = NFTTable(name: "tcplab", owned: true,
                         chains: [NFTChain(name: "input", hook: .input)],
                         sets: [NFTSet(name: "ports", keyLength: 2, dynamic: false, elements: [[0x1b, 0x58]])],
                         rules: [NFTRule(chain: "input", expressions: [.counter], comment: "count")])

    func testInstallBatchIsBeginMessagesEndWithConsecutiveSequencesAndACKs() throws {
        let batch = try NFTBatch.installing(table, replacingExisting: false, firstSequence: 100)
        let messages = Array(NetlinkDatagram(batch.bytes))
        // NFNL_MSG_BATCH_BEGIN (16), then (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_*), then BATCH_END (17)
        let nftables: UInt16 = 10 << 8
        XCTAssertEqual(messages.map(\.type), [
            16,
            nftables | 0,   // NEWTABLE
            nftables | 3,   // NEWCHAIN
            nftables | 9,   // NEWSET
            nftables | 12,  // NEWSETELEM
            nftables | 6,   // NEWRULE
            17,
        ])
        XCTAssertEqual(messages.map(\.sequence), Array(100...106))
        XCTAssertTrue(messages.allSatisfy { $0.flags & NetlinkFlag.ack != 0 }, "NLM_F_ACK on every message")
        XCTAssertEqual(messages.count, NFTBatch.messageCount(installing: table, replacingExisting: false) + 2)
        // Batch begin names the nf_tables subsystem in nfgenmsg.res_id (big-endian).
        XCTAssertEqual(UInt16(bigEndian: messages[0].payload.loadUnaligned(fromByteOffset: 2, as: UInt16.self)), 10)
        // The table message is exclusive: an existing table is EEXIST, not silently merged.
        XCTAssertNotEqual(messages[1].flags & NetlinkFlag.exclusive, 0)

        XCTAssertEqual(batch.object(for: 100), .batch)
        XCTAssertEqual(batch.object(for: 101), .table(family: .inet, name: "tcplab"))
        XCTAssertEqual(batch.object(for: 104), .setElements(set: "ports"))
        XCTAssertEqual(batch.object(for: 105), .rule(index: 0, chain: "input", comment: "count"))
    }

    func testReplacingPutsAddAndDeleteFirst() throws {
        let batch = try NFTBatch.installing(table, replacingExisting: true, firstSequence: 1)
        let types = Array(NetlinkDatagram(batch.bytes)).map { $0.type & 0xff }
        XCTAssertEqual(Array(types.prefix(4)), [16, 0, 2, 0], "begin, NEWTABLE, DELTABLE, NEWTABLE")
    }

    func testOversizedBatchIsRefusedBeforeSending() {
        var big = table
        big.rules = (0..<4000).map { NFTRule(chain: "input", expressions: [.counter, .verdict(.drop)], comment: "rule \($0)") }
        do {
            _ = try NFTBatch.installing(big, replacingExisting: false, firstSequence: 1)
            XCTFail("4000 rules fit in one batch?")
        } catch {
            guard case .batchTooLarge = error else { return XCTFail("\(error)") }
        }
    }
}
