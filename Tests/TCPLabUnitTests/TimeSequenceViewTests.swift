import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TCPLabFault
import TCPLabObserve
import XCTest

final class TimeSequenceViewTests: XCTestCase {
    func testOneBarPerDataSegmentRisingWithSequence() throws {
        var events = LadderPictureFixture.events()
        // A second data segment after the first: 5 bytes more, later.
        var next = events[7]
        next.fate = .passed
        next.sequenceRelative += 5
        next.timeUnixMicroseconds += 400_000
        events.insert(next, at: 9)
        XCTAssertEqual(TimeSequenceView.dataSender(events), .client)
        let document = try XMLDocument(xmlString: TimeSequenceView().render(events: events), options: [])
        let bars = try document.nodes(forXPath: "//*[local-name()='g'][contains(@class, 'data')]").compactMap { $0 as? XMLElement }
        // The held segment is one transmission: its release is not drawn again.
        XCTAssertEqual(bars.count, 2)
        func attribute(_ element: XMLElement, _ name: String) -> String? { element.attributes?.first { $0.name == name }?.stringValue }
        let lines = try bars.map { try XCTUnwrap(try $0.nodes(forXPath: "*[@class='bar']").first as? XMLElement) }
        let x = lines.map { Double(attribute($0, "x1")!)! }
        let bottoms = lines.map { Double(attribute($0, "y1")!)! }
        XCTAssertLessThan(x[0], x[1], "later to the right")
        XCTAssertGreaterThan(bottoms[0], bottoms[1], "higher sequence numbers higher up")
        XCTAssertEqual(attribute(bars[1], "data-seq"), "6")
        let ack = try XCTUnwrap(try document.nodes(forXPath: "//*[@class='ack']").first as? XMLElement)
        XCTAssertEqual(attribute(ack, "points")?.split(separator: " ").count, 2 * 2, "a step per ACK that reached the sender: the SYN-ACK that passed and the data ACK, not the dropped SYN-ACKs")
    }

    func testNoDataNoSender() {
        XCTAssertNil(TimeSequenceView.dataSender(Array(LadderPictureFixture.events().prefix(7))))
    }
}
