import CTCPLabShim
import TCPLabNetlink
import XCTest

/// nfnetlink_log messages built by hand, field by field (host order is little-endian here).
final class NFLogMessageTests: XCTestCase {
    func testHeaderSizesMatchTheKernelHeaders() {
        XCTAssertEqual(tcplab_nfgenmsg_size(), 4)
        XCTAssertEqual(tcplab_nfulnl_msg_packet_hdr_size(), 4)
        XCTAssertEqual(tcplab_nfulnl_msg_packet_timestamp_size(), 16)
        XCTAssertEqual(tcplab_nfulnl_msg_config_mode_size(), 6)
        XCTAssertEqual(NFLogMessage.packetMessageType, tcplab_nfnl_msg_type(4, 0))
        XCTAssertEqual(NFLogMessage.configMessageType, tcplab_nfnl_msg_type(4, 1))
    }

    func testBindRequestBytes() {
        XCTAssertEqual(NFLogMessage.command(.bind, group: 7, sequence: 0x0102_0304), [
            0x1C, 0, 0, 0,            // nlmsg_len 28
            0x01, 0x04,               // nlmsg_type NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG
            0x05, 0x00,               // NLM_F_REQUEST | NLM_F_ACK
            0x04, 0x03, 0x02, 0x01,   // seq
            0, 0, 0, 0,               // pid
            0x00, 0x00, 0x00, 0x07,   // nfgenmsg: AF_UNSPEC, v0, res_id = group 7 big-endian
            0x05, 0x00, 0x01, 0x00,   // nlattr len 5, NFULA_CFG_CMD
            0x01, 0, 0, 0,            // NFULNL_CFG_CMD_BIND + padding
        ])
    }

    func testModeAndQueueThresholdBytes() {
        let mode = NFLogMessage.mode(.packet, range: 0xFFFF, group: 7, sequence: 1)
        XCTAssertEqual(Array(mode[20...]), [
            0x0A, 0x00, 0x02, 0x00,   // nlattr len 10, NFULA_CFG_MODE
            0x00, 0x00, 0xFF, 0xFF,   // copy_range big-endian
            0x02, 0x00,               // NFULNL_COPY_PACKET, pad
            0x00, 0x00,               // attribute padding
        ])
        let threshold = NFLogMessage.queueThreshold(1, group: 7, sequence: 1)
        XCTAssertEqual(Array(threshold[20...]), [0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01])  // NFULA_CFG_QTHRESH = 1 (big-endian)
    }

    /// A logged packet: the 8-byte timestamp fields sit at offsets that are 4- but not 8-aligned.
    static let packetMessage: [UInt8] = {
        var body: [UInt8] = [0x02, 0x00, 0x00, 0x07]                      // nfgenmsg: NFPROTO_IPV4, v0, group 7
        body += [0x08, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00]           // NFULA_PACKET_HDR: ETH_P_IP, hook 0 (prerouting)
        body += [0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x2A]           // NFULA_MARK 42
        body += [0x14, 0x00, 0x03, 0x00,                                   // NFULA_TIMESTAMP
                 0, 0, 0, 0, 0x65, 0x53, 0xF1, 0x00,                        //   sec 1700000000
                 0, 0, 0, 0, 0x00, 0x01, 0xE2, 0x40]                        //   usec 123456
        body += [0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01]           // NFULA_IFINDEX_INDEV 1 (lo)
        body += [0x14, 0x00, 0x0A, 0x00] + Array("tcplab drop syn".utf8) + [0]  // NFULA_PREFIX, 16 bytes with NUL
        body += [0x09, 0x00, 0x09, 0x00, 0x45, 0x00, 0x00, 0x14, 0xAA, 0, 0, 0]  // NFULA_PAYLOAD, 5 bytes + padding
        let length = UInt32(16 + body.count)
        var message: [UInt8] = []
        message.appendHostOrder(length)
        message += [0x00, 0x04, 0x00, 0x00]                                // NFULNL_MSG_PACKET of NFNL_SUBSYS_ULOG, no flags
        message += [0, 0, 0, 0, 0, 0, 0, 0]                                // seq, pid
        return message + body
    }()

    func testPacketMessageParses() throws {
        let items = try NFLogMessage.parse(datagram: Self.packetMessage)
        XCTAssertEqual(items, [.packet(NFLogRecord(
            group: 7, family: 2, hwProtocol: 0x0800, hook: 0, timestampMicroseconds: 1_700_000_000_123_456,
            prefix: "tcplab drop syn", mark: 42, inputInterface: 1, packet: [0x45, 0x00, 0x00, 0x14, 0xAA]
        ))])
    }

    func testTwoMessagesAndAnErrorInOneDatagram() throws {
        var error: [UInt8] = []
        error.appendHostOrder(UInt32(36))
        error += [0x02, 0x00, 0x00, 0x00]                 // NLMSG_ERROR
        error += [0x09, 0, 0, 0, 0, 0, 0, 0]              // seq 9
        error.appendHostOrder(Int32(-1))                  // -EPERM
        error += [UInt8](repeating: 0, count: 16)         // the request's header
        let items = try NFLogMessage.parse(datagram: Self.packetMessage + error)
        XCTAssertEqual(items.count, 2)
        XCTAssertEqual(items.last, .status(sequence: 9, errno: 1))
    }

    func testTruncatedMessagesThrow() {
        for cut in [17, 30, Self.packetMessage.count - 1] {
            var bytes = Array(Self.packetMessage.prefix(cut))
            XCTAssertThrowsError(try NFLogMessage.parse(datagram: bytes), "cut at \(cut)")
            // An attribute whose length runs past the message.
            bytes = Self.packetMessage
            bytes[20] = 0xFF
            XCTAssertThrowsError(try NFLogMessage.parse(datagram: bytes))
        }
        // A timestamp attribute too short for its two fields.
        var short = Self.packetMessage
        short[36] = 0x0C
        XCTAssertThrowsError(try NFLogMessage.parse(datagram: short))
    }
}
