import TCPLabFault
import XCTest

final class FaultSpecParsingTests: XCTestCase {
    func testDropSelections() throws {
        XCTAssertEqual(try DropSpec(parsing: "synack"), DropSpec(.synack))
        XCTAssertEqual(try DropSpec(parsing: "synack:2"), DropSpec(.synack, .first(2)))
        XCTAssertEqual(try DropSpec(parsing: "data@3"), DropSpec(.data, .only(3)))
        XCTAssertEqual(try DropSpec(parsing: "data%0.3"), DropSpec(.data, .probability(0.3)))
        XCTAssertEqual(try DropSpec(parsing: "data%.25"), DropSpec(.data, .probability(0.25)))
        XCTAssertEqual(try DropSpec(parsing: "data%30%"), DropSpec(.data, .probability(0.3)))
        XCTAssertEqual(try DropSpec(parsing: "any%1"), DropSpec(.any, .probability(1)))
        XCTAssertEqual(try DropSpec(parsing: "SYN"), DropSpec(.syn))
    }

    func testDropAliasesName() throws {
        XCTAssertEqual(try DropSpec(parsing: "handshake-2:1").kind, .synack)
        XCTAssertEqual(try DropSpec(parsing: "handshake-3").kind, .handshakeAck)
        XCTAssertEqual(try DropSpec(parsing: "teardown-1").kind, .fin)
        XCTAssertEqual(try DropSpec(parsing: "teardown-2").kind, .finAck)
        XCTAssertEqual(try DropSpec(parsing: "teardown-3").kind, .peerFin)
        XCTAssertEqual(try DropSpec(parsing: "teardown-4@2"), DropSpec(.lastAck, .only(2)))
    }

    func testDescriptionsRoundTrip() throws {
        for text in ["synack", "synack:2", "data@3", "data%0.3", "last-ack:255"] {
            XCTAssertEqual(try DropSpec(parsing: text).description, text)
        }
        for text in ["synack=300ms", "fin:1=2s", "data=100ms~5ms", "peer-fin@2=1.5s"] {
            XCTAssertEqual(try DelaySpec(parsing: text).description, text)
        }
        for text in ["syn", "syn:1=100ms", "data@2=5ms~1ms"] {
            XCTAssertEqual(try DuplicateSpec(parsing: text).description, text)
        }
    }

    func testDelaySpecs() throws {
        XCTAssertEqual(try DelaySpec(parsing: "synack=300ms"), DelaySpec(.synack, delay: .milliseconds(300)))
        XCTAssertEqual(try DelaySpec(parsing: "fin:1=2s"), DelaySpec(.fin, .first(1), delay: .seconds(2)))
        XCTAssertEqual(
            try DelaySpec(parsing: "data=100ms~5ms"),
            DelaySpec(.data, delay: .milliseconds(100), jitter: .milliseconds(5))
        )
        XCTAssertEqual(try DuplicateSpec(parsing: "syn"), DuplicateSpec(.syn))
        XCTAssertEqual(try DuplicateSpec(parsing: "syn@1=3s"), DuplicateSpec(.syn, .only(1), copyDelay: .seconds(3)))
    }

    func testEveryErrorMessage() {
        let names = SegmentKind.validNames
        let drops: [(String, String)] = [
            ("synak", "'synak': unknown segment 'synak'; valid: \(names)"),
            ("ack", "'ack': unknown segment 'ack'; valid: \(names)"),
            (":2", "':2': missing segment name; valid: \(names)"),
            ("", "'': missing segment name; valid: \(names)"),
            ("synack:0", "'synack:0': count N in synack:N must be 1...255, not 0"),
            ("synack:256", "'synack:256': count N in synack:N must be 1...255, not 256"),
            ("synack:", "'synack:': count N in synack:N must be a whole number 1...255, not ''"),
            ("synack:-1", "'synack:-1': count N in synack:N must be a whole number 1...255, not '-1'"),
            ("synack:two", "'synack:two': count N in synack:N must be a whole number 1...255, not 'two'"),
            ("data@0", "'data@0': position K in data@K must be 1...255, not 0"),
            ("data@x", "'data@x': position K in data@K must be a whole number 1...255, not 'x'"),
            ("data%0", "'data%0': probability P must be in (0, 1], not 0"),
            ("data%30", "'data%30': probability P must be in (0, 1], not 30; write 0.3 or 30% for 30 percent"),
            ("data%150%", "'data%150%': probability P must be in (0, 1], not 150%"),
            ("data%abc", "'data%abc': probability P must be a decimal in (0, 1] like 0.3 (or 30%), not 'abc'"),
            ("data%", "'data%': probability P must be a decimal in (0, 1] like 0.3 (or 30%), not ''"),
            ("synack=1s", "'synack=1s': --drop takes no '=DURATION' (that is --delay)"),
        ]
        for (text, message) in drops {
            XCTAssertThrowsError(try DropSpec(parsing: text), text) { error in
                XCTAssertEqual((error as? FaultSpecError)?.description, message)
            }
        }
        let delays: [(String, String)] = [
            ("synack", "'synack': --delay needs SEG=DURATION, e.g. synack=300ms or data=100ms~5ms"),
            ("synack=", "'synack=': expected DURATION or DURATION~JITTER after '=', e.g. 100ms~5ms"),
            ("synack=1s~", "'synack=1s~': expected DURATION or DURATION~JITTER after '=', e.g. 100ms~5ms"),
            ("synack=1s~2s~3s", "'synack=1s~2s~3s': expected DURATION or DURATION~JITTER after '=', e.g. 100ms~5ms"),
            ("synack=-1s", "'synack=-1s': duration '-1s' is negative; a delay must be 0 or more"),
            ("synack=5", "'synack=5': duration '5' needs a unit: ns, us, ms, s or m (e.g. 300ms, 1.5s)"),
            ("data%0.5=1s", "'data%0.5': a probability (%P) is only for --drop; use data:N or data@K"),
            ("nope=1s", "'nope': unknown segment 'nope'; valid: \(names)"),
        ]
        for (text, message) in delays {
            XCTAssertThrowsError(try DelaySpec(parsing: text), text) { error in
                XCTAssertEqual((error as? FaultSpecError)?.description, message)
            }
        }
        XCTAssertThrowsError(try DuplicateSpec(parsing: "syn=fast")) { error in
            XCTAssertEqual(
                (error as? FaultSpecError)?.description,
                "'syn=fast': duration 'fast' needs a unit: ns, us, ms, s or m (e.g. 300ms, 1.5s)"
            )
        }
    }

    func testErrorsAreOneLine() {
        for text in ["synak", "synack:0", "data%30", "synack=1s"] {
            XCTAssertThrowsError(try DropSpec(parsing: text)) { error in
                XCTAssertFalse(String(describing: error).contains("\n"))
            }
        }
    }
}
