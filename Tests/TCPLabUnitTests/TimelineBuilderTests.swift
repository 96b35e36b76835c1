import Foundation
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import XCTest

/// Classification on synthetic segment sequences: client 10.0.0.1:40000, server 10.0.0.2:80,
/// client ISN 1000, server ISN 5000.
final class TimelineBuilderTests: XCTestCase {
    let client = InetEndpoint(address: InetAddress("10.0.0.1")!, port: 40000)
    let server = InetEndpoint(address: InetAddress("10.0.0.2")!, port: 80)

    func segment(_ t: Int64, _ from: Endpoint, _ flags: TCPFlags, seq: UInt32, ack: UInt32 = 0, len: Int = 0,
                 win: UInt16 = 512, options: [TCPOption] = [], fate: SegmentFate = .passed) -> CapturedSegment {
        let (source, destination) = from == .client ? (client, server) : (server, client)
        let header = TCPSegmentHeader(ipVersion: 4, source: source, destination: destination, sequence: seq,
                                      acknowledgment: ack, flags: flags, window: win, payloadLength: len, options: options)
        return CapturedSegment(timestampMicroseconds: 1_000_000 + t, header: header, fate: fate,
                               packet: [UInt8(truncatingIfNeeded: t), UInt8(truncatingIfNeeded: seq)])
    }

    var handshake: [CapturedSegment] {
        [
            segment(0, .client, [.syn], seq: 1000, win: 65535, options: [.maximumSegmentSize(1460), .windowScale(7)]),
            segment(10, .server, [.syn, .ack], seq: 5000, ack: 1001, win: 65535, options: [.maximumSegmentSize(1460), .windowScale(7)]),
            segment(20, .client, [.ack], seq: 1001, ack: 5001),
        ]
    }

    func testHandshakeDataAndFourWayTeardown() {
        let events = TimelineBuilder.build(handshake + [
            segment(100, .client, [.psh, .ack], seq: 1001, ack: 5001, len: 5),
            segment(110, .server, [.ack], seq: 5001, ack: 1006),
            segment(200, .client, [.fin, .ack], seq: 1006, ack: 5001),
            segment(210, .server, [.ack], seq: 5001, ack: 1007),
            segment(300, .server, [.fin, .ack], seq: 5001, ack: 1007),
            segment(310, .client, [.ack], seq: 1007, ack: 5002),
        ])
        XCTAssertEqual(events.map(\.kind), [.syn, .synack, .handshakeAck, .data, .ack, .fin, .finAck, .peerFin, .lastAck])
        XCTAssertEqual(events.map(\.from), [.client, .server, .client, .client, .server, .client, .server, .server, .client])
        XCTAssertEqual(events.map(\.offsetMicroseconds), [0, 10, 20, 100, 110, 200, 210, 300, 310])
        XCTAssertEqual(events.map(\.sequenceRelative), [0, 0, 1, 1, 1, 6, 1, 1, 7])
        XCTAssertEqual(events.map(\.acknowledgmentRelative), [nil, 1, 1, 1, 6, 1, 7, 7, 2])
        XCTAssertFalse(events.contains { $0.retransmission })
        XCTAssertEqual(events[0].windowBytes, nil)           // SYN windows are never scaled
        XCTAssertEqual(events[3].windowBytes, 512 << 7)
        XCTAssertEqual(events[0].maximumSegmentSizeBytes, 1460)
        XCTAssertEqual(events[3].flags, "P.")
        XCTAssertEqual(events[3].payloadBytes, 5)
    }

    func testThreeWayTeardownMergesAckIntoPeerFin() {
        let events = TimelineBuilder.build(handshake + [
            segment(200, .server, [.fin, .ack], seq: 5001, ack: 1001),  // the server closes first
            segment(210, .client, [.fin, .ack], seq: 1001, ack: 5002),
            segment(220, .server, [.ack], seq: 5002, ack: 1002),
        ])
        XCTAssertEqual(Array(events.map(\.kind).suffix(3)), [.fin, .peerFin, .lastAck])
        XCTAssertEqual(events[3].from, .server)
    }

    func testRetransmittedSYNAndSYNACK() {
        let events = TimelineBuilder.build([
            segment(0, .client, [.syn], seq: 1000),
            segment(1_000_000, .client, [.syn], seq: 1000),
            segment(1_000_010, .server, [.syn, .ack], seq: 5000, ack: 1001),
            segment(2_000_010, .server, [.syn, .ack], seq: 5000, ack: 1001),
            segment(2_000_020, .client, [.ack], seq: 1001, ack: 5001),
            segment(2_000_030, .client, [.ack], seq: 1001, ack: 5001),  // answers the repeat
        ])
        XCTAssertEqual(events.map(\.kind), [.syn, .syn, .synack, .synack, .handshakeAck, .handshakeAck])
        XCTAssertEqual(events.map(\.retransmission), [false, true, false, true, false, false])
        XCTAssertEqual(events.map(\.connection), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(events[1].offsetMicroseconds, 1_000_000)
    }

    func testKeepaliveProbeAndItsAnswer() {
        let events = TimelineBuilder.build(handshake + [
            segment(7_200_000_000, .server, [.ack], seq: 5000, ack: 1001),  // seq = snd_una - 1
            segment(7_200_000_050, .client, [.ack], seq: 1001, ack: 5001),
        ])
        XCTAssertEqual(Array(events.map(\.kind).suffix(2)), [.keepalive, .keepaliveAck])
        XCTAssertFalse(events.last!.retransmission)
    }

    func testZeroWindowProbe() {
        let events = TimelineBuilder.build(handshake + [
            segment(100, .client, [.ack], seq: 1001, ack: 5001, len: 100),
            segment(110, .server, [.ack], seq: 5001, ack: 1101, win: 0),
            segment(400, .client, [.ack], seq: 1100, ack: 5001),
        ])
        XCTAssertEqual(events.last?.kind, .windowProbe)
    }

    func testDataRetransmissionAndReset() {
        let events = TimelineBuilder.build(handshake + [
            segment(100, .client, [.psh, .ack], seq: 1001, ack: 5001, len: 100),
            segment(300, .client, [.psh, .ack], seq: 1001, ack: 5001, len: 100),
            segment(400, .client, [.psh, .ack], seq: 1051, ack: 5001, len: 100),  // partly new
            segment(500, .server, [.rst], seq: 5001),
        ])
        XCTAssertEqual(Array(events.map(\.kind).suffix(4)), [.data, .data, .data, .rst])
        XCTAssertEqual(Array(events.map(\.retransmission).suffix(4)), [false, true, true, false])
    }

    func testDropRecordOfALoggedPacketUpdatesItsFate() {
        var builder = TimelineBuilder()
        let syn = segment(0, .client, [.syn], seq: 1000)
        var dropped = syn
        dropped.fate = .dropped
        dropped.faultKind = .syn
        XCTAssertNotNil(builder.add(syn))
        XCTAssertNil(builder.add(dropped))
        XCTAssertEqual(builder.events.count, 1)
        XCTAssertEqual(builder.events[0].fate, .dropped)
        XCTAssertEqual(builder.events[0].faultKind, .syn)
    }

    func testFateFromPrefix() {
        XCTAssertEqual(FaultTag(logPrefix: "tcplab pass")?.fate, .passed)
        XCTAssertEqual(FaultTag(logPrefix: "tcplab drop synack")?.fate, .dropped)
        XCTAssertEqual(FaultTag(logPrefix: "tcplab drop synack")?.kind, .synack)
        XCTAssertEqual(FaultTag(logPrefix: "tcplab delay handshake-3")?.kind, .handshakeAck)
        XCTAssertEqual(FaultTag(logPrefix: "tcplab delay data")?.fate, .delayed)
        XCTAssertNil(FaultTag(logPrefix: "something else"), "another tool's prefix: the segment passed")
    }

    func testDirectionWithoutSYNAndNewConnectionOnSameTuple() {
        // Capture starts at the SYN-ACK: its receiver is the client.
        var events = TimelineBuilder.build([segment(0, .server, [.syn, .ack], seq: 5000, ack: 1001)])
        XCTAssertEqual(events[0].from, .server)
        // After a reset, a SYN with another ISN on the same 4-tuple is connection 1.
        events = TimelineBuilder.build(handshake + [
            segment(100, .client, [.rst, .ack], seq: 1001, ack: 5001),
            segment(200, .client, [.syn], seq: 9000),
        ])
        XCTAssertEqual(events.map(\.connection), [0, 0, 0, 0, 1])
        XCTAssertEqual(events.last?.offsetMicroseconds, 0)
        XCTAssertEqual(events.last?.sequenceRelative, 0)
    }

    func testJSONKeysAndRoundTrip() throws {
        let events = TimelineBuilder.build(handshake)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let line = String(decoding: try encoder.encode(events[1]), as: UTF8.self)
        for key in ["\"conn\":0", "\"t_us\":10", "\"unix_us\":1000010", "\"from\":\"server\"", "\"kind\":\"synack\"",
                    "\"flags\":\"S.\"", "\"seq_rel\":0", "\"ack_rel\":1", "\"seq_raw\":5000", "\"ack_raw\":1001",
                    "\"len_bytes\":0", "\"win_raw\":65535", "\"mss_bytes\":1460", "\"wscale\":7", "\"fate\":\"passed\"",
                    "\"retransmission\":false", "\"src\":\"10.0.0.2:80\"", "\"dst\":\"10.0.0.1:40000\"",
                    "\"options\":[\"mss 1460\",\"wscale 7\"]"] {
            XCTAssertTrue(line.contains(key), "\(key) missing in \(line)")
        }
        XCTAssertEqual(try JSONDecoder().decode(TimelineEvent.self, from: Data(line.utf8)), events[1])
    }
}
