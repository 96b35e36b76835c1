import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TCPLabFault
@testable import TCPLabObserve
import XCTest

/// The SVG ladder parsed back as XML (FoundationXML's XMLDocument, libxml2 underneath) and
/// measured: what is drawn must be the run, arrow for event, time for time.
final class SVGLadderViewTests: XCTestCase {
    let events = LadderPictureFixture.events()
    let origin = LadderPictureFixture.origin

    func parse(_ svg: String) throws -> XMLDocument { try XMLDocument(xmlString: svg, options: []) }

    func nodes(_ document: XMLDocument, _ xpath: String) throws -> [XMLElement] {
        try document.nodes(forXPath: xpath).compactMap { $0 as? XMLElement }
    }

    /// An attribute by its plain name (`attribute(forName:)` misses them under SVG's default namespace here).
    func attribute(_ element: XMLElement, _ name: String) -> String? {
        element.attributes?.first { $0.name == name }?.stringValue
    }

    func number(_ element: XMLElement, _ name: String) throws -> Double {
        try XCTUnwrap(attribute(element, name).flatMap(Double.init), "\(name) of \(element.xmlString)")
    }

    /// The `<line class="arrow">` of each segment group, in document order.
    func arrows(_ document: XMLDocument) throws -> [(group: XMLElement, line: XMLElement)] {
        try nodes(document, "//*[local-name()='g'][contains(concat(' ', @class, ' '), ' segment ')]").map { group in
            let line = try XCTUnwrap(try group.nodes(forXPath: "*[local-name()='line'][@class='arrow']").first as? XMLElement)
            return (group, line)
        }
    }

    func testOneArrowPerEventAndOneDroppedArrowPerDrop() throws {
        let svg = SVGLadderView(title: "synack-lost").render(events: events, transitions: LadderPictureFixture.transitions())
        let document = try parse(svg)
        XCTAssertEqual(document.rootElement()?.name, "svg")
        let drawn = try arrows(document)
        XCTAssertEqual(drawn.count, events.count, "one arrow per timeline event")
        let drops = events.filter { $0.fate == .dropped }.count
        XCTAssertEqual(drops, 2)
        XCTAssertEqual(try nodes(document, "//*[local-name()='g'][contains(@class, 'dropped')]").count, drops)
        // Each group is its event: kind and sender in the same order.
        XCTAssertEqual(drawn.map { attribute($0.group, "data-kind") }, events.map { $0.kind.rawValue })
        XCTAssertEqual(drawn.map { attribute($0.group, "data-from") }, events.map { $0.from.rawValue })
    }

    func testArrowsFollowTimeAndSlopeDown() throws {
        let drawn = try arrows(try parse(SVGLadderView().render(events: events)))
        let starts = try drawn.map { try number($0.line, "y1") }
        XCTAssertEqual(starts, starts.sorted(), "later events start lower")
        XCTAssertEqual(Set(starts).count, starts.count, "every event has a row of its own")
        for (index, arrow) in drawn.enumerated() {
            XCTAssertGreaterThan(try number(arrow.line, "y2"), try number(arrow.line, "y1"), "arrow \(index) slopes down with time")
        }
        // A longer wait takes more room: the 2 s before the third SYN more than the 1 s before the second.
        XCTAssertGreaterThan(starts[4] - starts[3], starts[2] - starts[1])
        XCTAssertGreaterThan(starts[2] - starts[1], starts[1] - starts[0])
    }

    func testDroppedArrowStopsHalfWayWithACross() throws {
        let drawn = try arrows(try parse(SVGLadderView().render(events: events)))
        let client = try number(drawn[0].line, "x1")
        let server = try number(drawn[0].line, "x2")
        XCTAssertLessThan(client, server, "the client's lane is on the left")
        for (event, arrow) in zip(events, drawn) {
            let start = try number(arrow.line, "x1")
            let end = try number(arrow.line, "x2")
            let lanes = event.from == .client ? (client, server) : (server, client)
            switch event.fate {
            case .dropped:
                XCTAssertEqual(start, lanes.0)
                XCTAssertTrue(min(client, server) < end && end < max(client, server), "a lost segment ends between the lanes, at \(end)")
                XCTAssertNil(attribute(arrow.line, "marker-end"), "no arrowhead: it never arrives")
                let mark = try nodes(try parse(arrow.group.xmlString), "//*[@class='mark']").first?.stringValue
                XCTAssertEqual(mark, "✗")
            case .delayed:
                XCTAssertTrue(min(client, server) < end && end < max(client, server), "held in the middle")
                XCTAssertEqual(try nodes(try parse(arrow.group.xmlString), "//*[@class='hourglass']").count, 1)
            case .released:
                XCTAssertTrue(min(client, server) < start && start < max(client, server), "released from where it was held")
                XCTAssertEqual(end, lanes.1)
                XCTAssertEqual(try nodes(try parse(arrow.group.xmlString), "//*[@class='hold']").count, 1, "the hold drawn as a dashed line")
            default:
                XCTAssertEqual(start, lanes.0)
                XCTAssertEqual(end, lanes.1)
            }
        }
    }

    func testTimesShownAreTheEventsTimes() throws {
        let drawn = try arrows(try parse(SVGLadderView().render(events: events)))
        for (event, arrow) in zip(events, drawn) {
            let shown = try nodes(try parse(arrow.group.xmlString), "//*[@class='time']").first?.stringValue
            // One connection, so offsets from the picture's origin are the JSON's t_us.
            XCTAssertEqual(shown, TimelineEvent.seconds(event.offsetMicroseconds))
            XCTAssertEqual(shown, TimelineEvent.seconds(event.timeUnixMicroseconds - origin))
            XCTAssertEqual(attribute(arrow.group, "data-t-us"), String(event.offsetMicroseconds))
        }
        XCTAssertEqual(attribute(drawn[8].group, "data-t-us"), "3300100", "the release at +3.3001 s")
    }

    func testRetransmissionsAreLabelledWithTheirGap() throws {
        let document = try parse(SVGLadderView().render(events: events))
        let labels = try arrows(document).map { try nodes(try parse($0.group.xmlString), "//*[@class='label']").first?.stringValue ?? "" }
        XCTAssertEqual(labels[2], "S seq 0 syn (retrans +1.000 s after the last copy)")
        XCTAssertEqual(labels[4], "S seq 0 syn (retrans +2.000 s after the last copy, ×2.0)", "backoff: twice the previous gap")
        XCTAssertEqual(labels[3], "S. seq 0 ack 1 synack (retrans +1.000 s after the last copy) ✗ dropped")
        XCTAssertTrue(labels[7].hasPrefix("P. seq 1 ack 1 len 5 data held"), labels[7])
        XCTAssertTrue(labels[8].hasSuffix("released (held 300.0 ms)"), labels[8])
    }

    func testStateBandsOnTheirLanes() throws {
        let document = try parse(SVGLadderView().render(events: events, transitions: LadderPictureFixture.transitions()))
        let bands = try nodes(document, "//*[local-name()='g'][@class='state']")
        XCTAssertEqual(bands.map { attribute($0, "data-state") }, ["SYN_SENT", "SYN_RECV", "ESTABLISHED", "ESTABLISHED"])
        let lanes = try arrows(document)[0].line
        let clientLane = try number(lanes, "x1")
        let serverLane = try number(lanes, "x2")
        for band in bands {
            let rect = try XCTUnwrap(try band.nodes(forXPath: "*[local-name()='rect']").first as? XMLElement)
            let x = try number(rect, "x")
            if attribute(band, "data-side") == "client" {
                XCTAssertLessThan(abs(x - clientLane), 50)
            } else {
                XCTAssertLessThan(abs(x - serverLane), 50)
            }
            XCTAssertGreaterThan(try number(rect, "height"), 0)
        }
        // SYN_SENT lasts until ESTABLISHED: its band ends where the next one starts.
        let synSent = try XCTUnwrap(try bands[0].nodes(forXPath: "*[local-name()='rect']").first as? XMLElement)
        let established = try XCTUnwrap(try bands[2].nodes(forXPath: "*[local-name()='rect']").first as? XMLElement)
        XCTAssertEqual(try number(synSent, "y") + (try number(synSent, "height")), try number(established, "y"), accuracy: 0.2)
    }

    func testJudgementsShowExpectedObservedAndTolerance() throws {
        let judgements = [
            LadderJudgement(label: "SYN retransmission 1", expectedUnixMicroseconds: origin + 1_000_000,
                            observedUnixMicroseconds: origin + 1_000_000, toleranceMicroseconds: 30_000, passed: true),
            LadderJudgement(label: "connect() returns <ETIMEDOUT> & more", expectedUnixMicroseconds: origin + 7_000_000,
                            observedUnixMicroseconds: nil, toleranceMicroseconds: 150_000, passed: false),
        ]
        let svg = SVGLadderView().render(events: events, judgements: judgements)
        let document = try parse(svg)
        let drawn = try nodes(document, "//*[local-name()='g'][contains(@class, 'judgement')]")
        XCTAssertEqual(drawn.count, 2)
        XCTAssertEqual(attribute(drawn[0], "data-tolerance-us"), "30000")
        let band = try XCTUnwrap(try drawn[0].nodes(forXPath: "*[@class='tolerance']").first as? XMLElement)
        let expected = try XCTUnwrap(try drawn[0].nodes(forXPath: "*[@class='expected']").first as? XMLElement)
        let observed = try XCTUnwrap(try drawn[0].nodes(forXPath: "*[@class='observed']").first as? XMLElement)
        let bandTop = try number(band, "y")
        let bandBottom = try bandTop + number(band, "height")
        let expectedY = try number(expected, "y1")
        XCTAssertTrue(bandTop < expectedY && expectedY < bandBottom, "the expectation inside its band")
        // Observed exactly on time: on the row of the second SYN.
        let secondSyn = try arrows(document)[2].line
        XCTAssertEqual(try number(observed, "cy"), try number(secondSyn, "y1"), accuracy: 0.1)
        XCTAssertEqual(try drawn[1].nodes(forXPath: "*[contains(@class, 'never')]").count, 1, "never happened: no dot")
        // The legend repeats the numbers; the label's < and & were escaped (the document parsed).
        let legends = try nodes(document, "//*[contains(@class, 'judgement-legend')]").map { $0.stringValue ?? "" }
        XCTAssertEqual(legends, ["1 PASS SYN retransmission 1: expected +1.000000s ± 0.030 s, observed +1.000000s",
                                 "2 FAIL connect() returns <ETIMEDOUT> & more: expected +7.000000s ± 0.150 s, observed never"])
        XCTAssertTrue(svg.contains("&lt;ETIMEDOUT&gt; &amp; more"))
    }

    func testSelfContained() throws {
        let svg = SVGLadderView().render(events: events, transitions: LadderPictureFixture.transitions())
        XCTAssertFalse(svg.contains("<script"))
        XCTAssertFalse(svg.contains("@import"))
        XCTAssertFalse(svg.contains("href=\"http"))
        XCTAssertNil(svg.range(of: "url\\((?!#)", options: .regularExpression), "only local url(#…) references")
        XCTAssertNoThrow(try parse(SVGLadderView().render(events: [])), "an empty run is still a picture")
    }

    func testXMLEscaping() {
        XCTAssertEqual(XMLText.escape("a < b & \"c\" 'd' >"), "a &lt; b &amp; &quot;c&quot; &#39;d&#39; &gt;")
        XCTAssertEqual(XMLText.escape("bell\u{7}"), "bell\u{FFFD}", "a control character XML forbids")
        XCTAssertEqual(XMLText.escape("第一次握手"), "第一次握手")
        XCTAssertEqual(XMLWriter.number(12), "12")
        XCTAssertEqual(XMLWriter.number(12.25), "12.3")
    }
}

final class RetransmissionGapTests: XCTestCase {
    func testRatiosOnlyBetweenTimerSizedGaps() {
        var events = LadderPictureFixture.events()
        // A SYN-ACK sent 20 µs after the previous copy (in answer to a repeated SYN), then one 2 s later.
        var quick = events[5]
        quick.timeUnixMicroseconds += 20
        var late = events[5]
        late.timeUnixMicroseconds += 2_000_000
        events += [quick, late]
        let gaps = RetransmissionGap.of(events)
        XCTAssertEqual(gaps[4], RetransmissionGap(sincePrevious: 2_000_000, ratio: 2))
        XCTAssertEqual(gaps[events.count - 2], RetransmissionGap(sincePrevious: 20, ratio: nil), "no ×0.0")
        XCTAssertEqual(gaps[events.count - 1], RetransmissionGap(sincePrevious: 1_999_980, ratio: nil), "no ×100000")
        XCTAssertNil(gaps[0], "a first transmission")
        XCTAssertNil(gaps[8], "a release is the held segment, not a retransmission")
    }
}
