import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TCPLab
import TCPLabObserve
import XCTest

/// faultproxy's JSON lines read back into segments and states, and the catalogue's shape.
final class LabObservationTests: XCTestCase {
    let lines = """
        {"ack_raw":0,"conn":0,"dst":"127.0.0.1:7000","fate":"dropped","fault_kind":"syn","flags":"S","from":"client","kind":"syn","len_bytes":0,"options":["mss 65495"],"retransmission":false,"seq_raw":100,"seq_rel":0,"src":"127.0.0.1:40000","t_us":0,"type":"segment","unix_us":1000000,"win_raw":65495}
        {"expires_ms":1000,"local":"127.0.0.1:40000","previous_state":null,"remote":"127.0.0.1:7000","retrans":0,"side":"client","state":"SYN_SENT","t_us":2000,"timer":"retransmit timer","type":"state","unix_us":1002000}
        faultproxy: not json
        {"ack_raw":0,"conn":0,"dst":"127.0.0.1:7000","fate":"dropped","fault_kind":"syn","flags":"S","from":"client","kind":"syn","len_bytes":0,"options":[],"retransmission":true,"seq_raw":100,"seq_rel":0,"src":"127.0.0.1:40000","t_us":1010000,"type":"segment","unix_us":2010000,"win_raw":65495}
        {"expires_ms":0,"local":"127.0.0.1:40000","previous_state":"SYN_SENT","remote":"127.0.0.1:7000","retrans":0,"side":"client","state":"CLOSED","t_us":3000000,"timer":"no timer","type":"state","unix_us":4000000}
        """

    func testParsesSegmentsAndStates() throws {
        let observation = Observation(jsonLines: lines)
        XCTAssertEqual(observation.events.count, 2)
        XCTAssertEqual(observation.transitions.count, 2)
        XCTAssertEqual(observation.statePath(.client), ["SYN_SENT", "CLOSED"])
        XCTAssertEqual(observation.firstTime(.client, entered: "CLOSED"), 4_000_000)
        XCTAssertEqual(observation.transitions[0].timer, .retransmit)
        XCTAssertEqual(observation.dropped(.syn), 2)
        XCTAssertEqual(observation.offsets(observation.segments(.syn), from: 1_000_000), [0, 1.01])
        XCTAssertNoThrow(try observation.assertDropped("syn", count: 2, before: 1.5))
        XCTAssertThrowsError(try observation.assertDropped("syn", count: 2, before: 0.5))
        XCTAssertNoThrow(try observation.assertSchedule(.syn, from: .client, expected: RetransmissionModel.syn(synRetries: 1, linearTimeouts: 0)))
        XCTAssertTrue(observation.ladder().contains("SYN_SENT"))
    }

    /// The library draws the same pictures as the commands: an SVG with one arrow per segment
    /// (both dropped), a Mermaid diagram with one message each.
    func testTheLibraryDrawsSVGAndMermaidLadders() throws {
        let observation = Observation(jsonLines: lines)
        let svg = observation.ladder(.svg, title: "syn lost")
        let document = try XMLDocument(xmlString: svg)
        XCTAssertEqual(document.rootElement()?.name, "svg")
        XCTAssertTrue(svg.contains("syn lost"))
        XCTAssertEqual(svg.components(separatedBy: "✗").count - 1 >= 2, true, svg)
        let mermaid = observation.ladder(.mermaid)
        XCTAssertTrue(mermaid.hasPrefix("sequenceDiagram"), mermaid)
        XCTAssertEqual(mermaid.components(separatedBy: "-x").count - 1, 2, mermaid)
    }

    func testClientResultAssertionsUseTheToleranceRule() {
        let result = ClientResult(status: 2, standardOutput: #"{"connect_ms":1512.0,"echo_ok":false,"error":"ETIMEDOUT"}"#,
                                  standardError: "", wallSeconds: 1.6, tolerance: .forTick())
        XCTAssertNoThrow(try result.assertFailed("ETIMEDOUT", after: 1.5))
        XCTAssertThrowsError(try result.assertFailed("ETIMEDOUT", after: 1.0)) { error in
            XCTAssertEqual("\(error)", "expected ETIMEDOUT at +1.000 s but it happened at +1.512 s (late by 0.512 s); tolerance −0.004/+0.046 s")  // 32 ms wheel lateness of the 1 s timer + max(8 ms, 2% of 1 s)
        }
        XCTAssertThrowsError(try result.assertConnect(after: 1.5))
    }

    func testTheCatalogueHoldsEveryScenario() {
        let names = LabCatalogue.all.map(\.name)
        XCTAssertEqual(names.count, 23)
        XCTAssertEqual(Set(names).count, 23)
        for name in ["handshake", "syn-lost", "synack-lost", "ack-lost", "simultaneous-open", "accept-queue-full", "syn-queue-full",
                     "old-duplicate-syn", "teardown", "fin-lost", "fin-ack-lost", "peer-fin-lost", "last-ack-lost", "time-wait",
                     "time-wait-exhaustion", "simultaneous-close", "close-wait-leak", "client-dead-keepalive", "server-dead-retransmit",
                     "peer-restart", "data-lost", "zero-window", "fd-limit"] {
            XCTAssertNotNil(LabCatalogue.named(name), name)
        }
        XCTAssertTrue(LabCatalogue.all.allSatisfy { !$0.question.isEmpty && !$0.summary.isEmpty })
    }
}
