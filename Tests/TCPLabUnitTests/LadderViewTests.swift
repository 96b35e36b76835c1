import TCPLabSystem
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import XCTest

final class LadderViewTests: XCTestCase {
    func events() -> [TimelineEvent] {
        let client = InetEndpoint(address: InetAddress("10.0.0.1")!, port: 40000)
        let server = InetEndpoint(address: InetAddress("10.0.0.2")!, port: 80)
        func segment(_ t: Int64, _ from: Endpoint, _ flags: TCPFlags, seq: UInt32, ack: UInt32 = 0,
                     fate: SegmentFate = .passed) -> CapturedSegment {
            let (source, destination) = from == .client ? (client, server) : (server, client)
            return CapturedSegment(timestampMicroseconds: 1_000_000 + t, header: TCPSegmentHeader(
                ipVersion: 4, source: source, destination: destination, sequence: seq, acknowledgment: ack,
                flags: flags, window: 100), fate: fate)
        }
        return TimelineBuilder.build([
            segment(0, .client, [.syn], seq: 1000),
            segment(10, .server, [.syn, .ack], seq: 5000, ack: 1001, fate: .dropped),
            segment(1_000_000, .client, [.syn], seq: 1000),
        ])
    }

    func testColumnsArrowsAndDrops() {
        let transition = SocketTransition(
            offsetMicroseconds: 20, timeUnixMicroseconds: 1_000_020, side: .server,
            local: InetEndpoint(address: InetAddress("10.0.0.2")!, port: 80),
            remote: InetEndpoint(address: InetAddress("10.0.0.1")!, port: 40000),
            state: .synReceived, previousState: nil, timer: .retransmit, expiresMilliseconds: 1000)
        let text = LadderView().render(events: events(), transitions: [transition])
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].hasPrefix("time"))
        XCTAssertTrue(lines[1].hasPrefix("+0.000000s"))
        XCTAssertTrue(lines[1].contains("S seq 0 syn ─"))
        XCTAssertTrue(lines[1].hasSuffix("▶"))
        XCTAssertTrue(lines[2].contains("✗─"))
        XCTAssertTrue(lines[2].hasSuffix("S. seq 0 ack 1 synack ✗ dropped"))
        XCTAssertTrue(lines[3].hasSuffix("SYN_RECV (retransmit timer 1 s)"))
        XCTAssertTrue(lines[3].hasPrefix("+0.000020s     "))   // the server's column, right of the arrows
        XCTAssertTrue(lines[4].hasPrefix("+1.000000s"))
        XCTAssertTrue(lines[4].contains("syn (retrans)"))
        XCTAssertFalse(text.contains("\u{1B}["))
    }

    func testColourOnlyWhenAsked() {
        let text = LadderView(colour: true).render(events: events())
        XCTAssertTrue(text.contains("\u{1B}[31m"))  // the drop in red
        XCTAssertTrue(text.contains("\u{1B}[33m"))  // the retransmission in yellow
    }
}
