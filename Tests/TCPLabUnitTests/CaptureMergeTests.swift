import TCPLabFault
import TCPLabNetlink
@testable import TCPLabObserve
import XCTest

/// The packet ring's arrivals and NFLOG's records in one time order, a fault's record folded into
/// the frame of the same packet.
final class CaptureMergeTests: XCTestCase {
    let client = InetEndpoint(address: InetAddress("127.0.0.1")!, port: 40000)
    let server = InetEndpoint(address: InetAddress("127.0.0.1")!, port: 7000)

    func segment(_ t: Int64, seq: UInt32, fate: SegmentFate = .passed, kind: SegmentKind? = nil) -> CapturedSegment {
        let header = TCPSegmentHeader(ipVersion: 4, source: client, destination: server, sequence: seq, acknowledgment: 1,
                                      flags: [.ack], window: 512, payloadLength: 10)
        return CapturedSegment(timestampMicroseconds: 1_000_000 + t, header: header, fate: fate, faultKind: kind,
                               packet: [UInt8(truncatingIfNeeded: seq), UInt8(truncatingIfNeeded: seq >> 8)])
    }

    func testAFaultsRecordTakesItsFrameAndKeepsTheFramesTime() {
        var merge = CaptureMerge()
        merge.addArrival(segment(0, seq: 1))
        merge.addArrival(segment(100, seq: 2))
        // Logged at prerouting 16 µs after the tap saw it (as measured on loopback).
        merge.addLogged(segment(116, seq: 2, fate: .dropped, kind: .data), kernelStamped: true)
        merge.addArrival(segment(200, seq: 3))
        let out = merge.release(before: .max)
        XCTAssertEqual(out.map(\.header.sequence), [1, 2, 3])
        XCTAssertEqual(out.map(\.fate), [.passed, .dropped, .passed])
        XCTAssertEqual(out[1].timestampMicroseconds, 1_000_100)
        XCTAssertEqual(out[1].faultKind, .data)
        XCTAssertEqual(merge.pairs, 1)
    }

    func testOrderIsByTimeWhateverTheSourceReadFirst() {
        var merge = CaptureMerge()
        // This host's own segment, logged at output (no NFLOG timestamp), read before the ring's block.
        merge.addLogged(segment(150, seq: 9), kernelStamped: false)
        merge.addArrival(segment(100, seq: 1))
        merge.addArrival(segment(200, seq: 2))
        XCTAssertEqual(merge.release(before: .max).map(\.header.sequence), [1, 9, 2])
        XCTAssertEqual(merge.pairs, 0)
    }

    func testOnlyWhatBothSourcesHaveCompletedGoesOn() {
        var merge = CaptureMerge()
        merge.addArrival(segment(0, seq: 1))
        merge.addArrival(segment(30_000, seq: 2))
        // The frame at +30 ms is within a pairing window of the watermark: its fault's record may still come.
        let window = CaptureMerge.pairingWindowMicroseconds
        XCTAssertEqual(merge.release(before: 1_000_000 + 30_000 + window - 1).map(\.header.sequence), [1])
        merge.addLogged(segment(30_020, seq: 2, fate: .delayed), kernelStamped: true)
        let rest = merge.release(before: .max)
        XCTAssertEqual(rest.map(\.fate), [.delayed])
    }

    func testAVerdictWithoutItsFrameStandsAloneOnceItsWindowHasPassed() {
        var merge = CaptureMerge()
        // The ring was full: only the drop's record came.
        merge.addLogged(segment(500, seq: 5, fate: .dropped), kernelStamped: true)
        merge.addArrival(segment(400, seq: 4))
        let window = CaptureMerge.pairingWindowMicroseconds
        XCTAssertEqual(merge.release(before: 1_000_500 + window).map(\.header.sequence), [4], "the frame might still be read")
        merge.addArrival(segment(3 * window, seq: 6))
        let out = merge.release(before: 1_000_000 + 5 * window)
        XCTAssertEqual(out.map(\.header.sequence), [5, 6])
        XCTAssertEqual(out.first?.fate, .dropped)
        XCTAssertEqual(merge.pairs, 0)
    }

    func testAFrameMatchesOnlyItsOwnBytesAndOnlyOnce() {
        var merge = CaptureMerge()
        merge.addArrival(segment(0, seq: 1))
        merge.addArrival(segment(10, seq: 1))  // the same bytes again (a retransmission within the window)
        merge.addLogged(segment(20, seq: 1, fate: .dropped), kernelStamped: true)
        merge.addLogged(segment(30, seq: 7, fate: .dropped), kernelStamped: true)  // another packet's
        let out = merge.release(before: .max)
        XCTAssertEqual(out.map(\.fate), [.dropped, .passed, .dropped])
        XCTAssertEqual(out.map(\.header.sequence), [1, 1, 7])
        XCTAssertEqual(merge.pairs, 1)
    }

    func testAReleaseIsStampedWhenItWasLoggedNotWhenItArrived() throws {
        // SYN-ACK 127.0.0.1:7000 > 127.0.0.1:40000; NFLOG's timestamp is the skb's receive stamp
        // (the hold's arrival), the mark the release rule's `meta time`.
        var packet: [UInt8] = [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
        packet += [0x1b, 0x58, 0x9c, 0x40, 0, 0, 0, 9, 0, 0, 0, 2, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0]
        let readAt: Int64 = 1_700_000_000_400_000_000
        let releasedAt = readAt - 1_000_000
        var record = NFLogRecord(group: 3, family: 2, timestampMicroseconds: (readAt - 300_000_000) / 1000,
                                 prefix: "tcplab release synack 300ms", packet: packet)
        record.mark = UInt32(truncatingIfNeeded: releasedAt)
        XCTAssertEqual(try CapturedSegment(record: record, readAt: readAt).timestampMicroseconds, releasedAt / 1000)
        record.prefix = "tcplab delay synack 300ms"
        XCTAssertEqual(try CapturedSegment(record: record, readAt: readAt).timestampMicroseconds, (readAt - 300_000_000) / 1000)
    }
}
