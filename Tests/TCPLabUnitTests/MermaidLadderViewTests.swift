import TCPLabFault
@testable import TCPLabObserve
import XCTest

final class MermaidLadderViewTests: XCTestCase {
    func testOneMessagePerEventWithArrowsForFates() {
        let events = LadderPictureFixture.events()
        let text = MermaidLadderView().render(events: events, transitions: LadderPictureFixture.transitions())
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "sequenceDiagram")
        XCTAssertEqual(lines[1], "    participant C as client 10.0.0.1:40000")
        XCTAssertEqual(lines[2], "    participant S as server 10.0.0.2:80")
        let messages = lines.filter { $0.contains("->>") || $0.contains("-x") || $0.contains("-)") }
        XCTAssertEqual(messages.count, events.count, "one message per timeline event")
        XCTAssertEqual(messages.filter { $0.hasPrefix("    S-xC:") }.count, 2, "the two lost SYN-ACKs end in a cross")
        XCTAssertEqual(messages[0], "    C->>S: +0.000000s S seq 0 syn")
        XCTAssertEqual(messages[4], "    C->>S: +3.000000s S seq 0 syn (retrans +2.000 s after the last copy, ×2.0)")
        XCTAssertTrue(messages[7].hasPrefix("    C-)S: +3.000100s P. seq 1 ack 1 len 5 data held"), messages[7])
        XCTAssertEqual(lines.filter { $0.hasPrefix("    Note left of C:") }.count, 2)
        XCTAssertTrue(lines.contains("    Note right of S: +0.000600s SYN_RECV (retransmit timer 1 s)"))
        // In time order: the client's SYN_SENT note (+0.0005 s) after the first SYN-ACK, before the server's SYN_RECV.
        let note = lines.firstIndex { $0.contains("SYN_SENT") }!
        XCTAssertTrue(lines[note - 1].contains("+0.000025s") && lines[note + 1].contains("+0.000600s"), lines[note - 1 ... note + 1].joined(separator: "\n"))
    }

    func testStatementBreakersAreEscaped() {
        XCTAssertEqual(MermaidLadderView.escape("a; b #1\nc"), "a#59; b #35;1 c")
    }
}

final class KernelEventPictureTests: XCTestCase {
    let reset = KernelEvent(name: .sendReset, monotonicMicroseconds: 0, timeUnixMicroseconds: LadderPictureFixture.origin + 3_300_300,
                            local: LadderPictureFixture.server, remote: LadderPictureFixture.client, side: .server,
                            oldState: nil, newState: .established)

    func testKernelEventsAreNotesAndFlags() throws {
        let events = LadderPictureFixture.events()
        let mermaid = MermaidLadderView().render(events: events, kernelEvents: [reset])
        XCTAssertEqual(mermaid.split(separator: "\n").last, "    Note right of S: +3.300300s kernel: RST sent")
        let svg = SVGLadderView().render(events: events, kernelEvents: [reset])
        XCTAssertEqual(svg.components(separatedBy: "<g class=\"kernel\" data-side=\"server\" data-name=\"tcp_send_reset\"").count - 1, 1)
        XCTAssertTrue(svg.contains(">kernel: RST sent</text>"))
    }
}
