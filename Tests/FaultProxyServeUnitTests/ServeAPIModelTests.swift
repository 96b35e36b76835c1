@testable import FaultProxyServe
import XCTest

/// toxiproxy 2.12's bytes: key order, number spelling and Go's error wording.
final class ServeAPIModelTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func testToxicIsWrittenInToxiproxysOrderWithFloat32Toxicity() throws {
        let toxic = try Toxic.parseNew(try parse(#"{"type":"latency","toxicity":0.3,"attributes":{"jitter":5}}"#))
        XCTAssertEqual(JSONWriter.write(toxic.body.json),
                       #"{"attributes":{"latency":0,"jitter":5},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":0.3}"#)
        let whole = try Toxic.parseNew(try parse(#"{"type":"timeout"}"#))
        XCTAssertTrue(JSONWriter.write(whole.body.json).hasSuffix(#""toxicity":1}"#))
    }

    func testFieldsOfTheWrongKindGetGosMessages() throws {
        let cases: [(String, String)] = [
            (#"{"type":"latency","attributes":{"latency":"abc"}}"#,
             "json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of type int64"),
            (#"{"type":"latency","attributes":{"latency":1.5}}"#,
             "json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64"),
            (#"{"type":"latency","toxicity":"x"}"#, "json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type float32"),
            (#"{"type":"latency","stream":"UP"}"#, "stream was invalid, can be either upstream or downstream"),
            (#"{"name":"x"}"#, "invalid toxic type"),
        ]
        for (body, message) in cases {
            XCTAssertThrowsError(try Toxic.parseNew(try parse(body))) { error in
                XCTAssertTrue("\(error)".hasSuffix(message), "\(body): \(error)")
            }
        }
    }

    func testMalformedJSONIsWordedAsGoWordsIt() {
        let cases: [(String, String)] = [
            ("", "EOF"), ("{bad", "invalid character 'b' looking for beginning of object key string"),
            (#"{"name":"a""#, "unexpected EOF"), (#"{"a" 1}"#, "invalid character '1' after object key"),
            (#"{"a":1 "b":2}"#, "invalid character '\"' after object key:value pair"), ("[1 2]", "invalid character '2' after array element"),
            ("tru", "unexpected EOF"), ("trux", "invalid character 'x' in literal true (expecting 'e')"), ("?", "invalid character '?' looking for beginning of value"),
        ]
        for (text, message) in cases {
            XCTAssertEqual(GoJSONSyntax.message(for: Array(text.utf8)), message, text)
        }
        XCTAssertNil(GoJSONSyntax.message(for: Array(#"{"a":[1,true,null,"x\"y"]}"#.utf8)))
    }

    func testSegmentToxicsSpeakTheCLIsVocabulary() throws {
        let drop = try Toxic.parseNew(try parse(#"{"type":"drop","attributes":{"segment":"synack","count":2}}"#))
        XCTAssertEqual(SegmentPlanner.spec(drop), "synack:2")
        let delay = try Toxic.parseNew(try parse(#"{"type":"delay","attributes":{"segment":"data","delay":50,"jitter":5,"leg":"upstream"}}"#))
        XCTAssertEqual(SegmentPlanner.spec(delay), "data=50ms~5ms")
        let plans = try SegmentPlanner.plans([drop, delay], listenPort: 7001, upstreamPort: 7000, logGroup: 100, tableBase: "t")
        XCTAssertEqual(Set(plans.values.map(\.port)), [7000, 7001])
        XCTAssertThrowsError(try Toxic.parseNew(try parse(#"{"type":"drop","attributes":{"segment":"synak"}}"#))) { error in
            XCTAssertTrue("\(error)".contains("unknown segment 'synak'"), "\(error)")
        }
    }
}
