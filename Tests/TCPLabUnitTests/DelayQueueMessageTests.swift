import CTCPLabShim
import TCPLabNetlink
import XCTest

/// nfnetlink_queue bytes: the config requests and verdicts faultproxy sends, and a packet
/// message as the kernel sends it, each field annotated.
final class DelayQueueMessageTests: XCTestCase {
    func testStructSizesMatchTheKernelHeaders() {
        XCTAssertEqual(tcplab_nfqnl_msg_packet_hdr_size(), 7)     // be32 id, be16 hw_protocol, u8 hook (packed)
        XCTAssertEqual(tcplab_nfqnl_msg_verdict_hdr_size(), 8)    // be32 verdict, be32 id
        XCTAssertEqual(tcplab_nfqnl_msg_config_cmd_size(), 4)     // u8 command, u8 pad, be16 pf
        XCTAssertEqual(tcplab_nfqnl_msg_config_params_size(), 5)  // be32 copy_range, u8 copy_mode (packed)
    }

    func testBindRequest() {
        let bytes = NFQueueMessage.command(.bind, queue: 0x1234, sequence: 7)
        XCTAssertEqual(bytes, [
            28, 0, 0, 0,        // nlmsg_len 28
            0x02, 0x03,         // type: NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_CONFIG
            0x05, 0x00,         // NLM_F_REQUEST | NLM_F_ACK
            7, 0, 0, 0,         // seq
            0, 0, 0, 0,         // portid
            0, 0, 0x12, 0x34,   // nfgenmsg: AF_UNSPEC, v0, res_id = queue (big-endian)
            8, 0, 1, 0,         // NFQA_CFG_CMD, len 8
            1, 0, 0, 0,         // NFQNL_CFG_CMD_BIND, pad, pf 0
        ])
    }

    func testParametersMaximumLengthAndFailOpen() {
        let parameters = NFQueueMessage.parameters(.packet, range: 0xFFFF, queue: 1, sequence: 1)
        XCTAssertEqual(Array(parameters[20...]), [
            9, 0, 2, 0,             // NFQA_CFG_PARAMS, len 9
            0, 0, 0xff, 0xff, 2,    // copy_range be32 65535, NFQNL_COPY_PACKET
            0, 0, 0,                // padding
        ])
        let length = NFQueueMessage.maximumLength(1024, queue: 1, sequence: 1)
        XCTAssertEqual(Array(length[20...]), [8, 0, 3, 0, 0, 0, 4, 0])  // NFQA_CFG_QUEUE_MAXLEN be32 1024
        let flags = NFQueueMessage.flags(.failOpen, mask: [.failOpen, .gso], queue: 1, sequence: 1)
        XCTAssertEqual(Array(flags[20...]), [
            8, 0, 4, 0, 0, 0, 0, 5,  // NFQA_CFG_MASK be32 FAIL_OPEN | GSO
            8, 0, 5, 0, 0, 0, 0, 1,  // NFQA_CFG_FLAGS be32 FAIL_OPEN (GSO off: copies need checksums)
        ])
    }

    func testVerdictWithMark() {
        let bytes = NFQueueMessage.verdict(.accept, packetID: 0x0102_0304, mark: 0x0000_00aa, queue: 2, sequence: 9)
        XCTAssertEqual(bytes, [
            40, 0, 0, 0,
            0x01, 0x03,           // NFQNL_MSG_VERDICT
            0x01, 0x00,           // NLM_F_REQUEST only: errors still come back, ACKs do not
            9, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 2,           // nfgenmsg, queue 2
            12, 0, 2, 0,          // NFQA_VERDICT_HDR, len 12
            0, 0, 0, 1,           // NF_ACCEPT
            1, 2, 3, 4,           // packet id
            8, 0, 3, 0,           // NFQA_MARK
            0, 0, 0, 0xaa,
        ])
        XCTAssertEqual(NFQueueMessage.verdict(.accept, packetID: 1, mark: nil, queue: 2, sequence: 9).count, 32)
    }

    func testParsesAPacketMessage() throws {
        let ipPacket: [UInt8] = [0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
        var payload: [UInt8] = [2, 0, 0x00, 0x05]                            // nfgenmsg: NFPROTO_IPV4, queue 5
        payload += NetlinkWireAttribute.encode(type: 1, payload: [0, 0, 0, 42, 0x08, 0x00, 0])  // id 42, ETH_P_IP, PRE_ROUTING
        payload += NetlinkWireAttribute.encode(type: 3, payload: [0x00, 0x02, 0x00, 0x01])      // NFQA_MARK: tag 2, bit 0
        payload += NetlinkWireAttribute.encode(type: 5, payload: [0, 0, 0, 1])                  // NFQA_IFINDEX_INDEV lo
        payload += NetlinkWireAttribute.encode(type: 10, payload: ipPacket)                      // NFQA_PAYLOAD
        let datagram = NetlinkWireMessage.encode(type: NFQueueMessage.packetMessageType, flags: 0, sequence: 0, payload: payload)
        let items = try NFQueueMessage.parse(datagram: datagram)
        guard case .packet(let packet) = items.first else { return XCTFail("\(items)") }
        XCTAssertEqual(packet.queue, 5)
        XCTAssertEqual(packet.family, 2)
        XCTAssertEqual(packet.id, 42)
        XCTAssertEqual(packet.hwProtocol, 0x0800)
        XCTAssertEqual(packet.hook, 0)
        XCTAssertEqual(packet.mark, 0x0002_0001)
        XCTAssertEqual(packet.inputInterface, 1)
        XCTAssertEqual(packet.bytes, ipPacket)
        XCTAssertFalse(packet.isTruncated)
    }

    func testAPacketWithoutItsHeaderOrCutShortIsRefused() {
        var payload: [UInt8] = [2, 0, 0, 5]
        payload += NetlinkWireAttribute.encode(type: 10, payload: [0x45])
        XCTAssertThrowsError(try NFQueueMessage.packet(payload: payload[...]))
        XCTAssertThrowsError(try NFQueueMessage.packet(payload: [2, 0, 0, 5] + [12, 0, 1, 0, 0, 0]))
    }

    func testAcknowledgementsAndErrors() throws {
        // NLMSG_ERROR with error -ENOENT (a verdict for an id the kernel no longer holds).
        var payload: [UInt8] = []
        payload.appendHostOrder(Int32(-2))
        payload += [UInt8](repeating: 0, count: 16)
        let datagram = NetlinkWireMessage.encode(type: NetlinkWireMessage.typeError, flags: 0, sequence: 77, payload: payload)
        XCTAssertEqual(try NFQueueMessage.parse(datagram: datagram), [.status(sequence: 77, errno: 2)])
    }
}
