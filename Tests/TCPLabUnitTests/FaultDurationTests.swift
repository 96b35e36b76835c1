import TCPLabFault
import XCTest

final class FaultDurationTests: XCTestCase {
    func testParsesEveryUnitToNanoseconds() throws {
        let cases: [(String, UInt64)] = [
            ("300ms", 300_000_000), ("2s", 2_000_000_000), ("1.5s", 1_500_000_000), ("250us", 250_000),
            ("250µs", 250_000), ("1m", 60_000_000_000), ("0", 0), ("0.0", 0), ("0ms", 0), ("7ns", 7),
            ("0.25ms", 250_000), (".5s", 500_000_000), (" 10ms ", 10_000_000),
        ]
        for (text, nanoseconds) in cases {
            XCTAssertEqual(try FaultDuration(parsing: text).nanoseconds, nanoseconds, text)
        }
    }

    func testDescriptionIsTheShortestExactSpelling() {
        let cases: [(UInt64, String)] = [
            (0, "0"), (300_000_000, "300ms"), (1_500_000_000, "1.5s"), (250_000, "250us"),
            (60_000_000_000, "60s"), (1_234_567, "1234.567us"), (7, "7ns"), (100_500_000, "100.5ms"),
        ]
        for (nanoseconds, text) in cases {
            XCTAssertEqual(FaultDuration(nanoseconds: nanoseconds).description, text)
        }
    }

    func testDescriptionParsesBackToTheSameValue() throws {
        for nanoseconds: UInt64 in [1, 999, 1_000, 1_001, 123_456_789, 5_000_000_000, 86_400_000_000_000] {
            let duration = FaultDuration(nanoseconds: nanoseconds)
            XCTAssertEqual(try FaultDuration(parsing: duration.description), duration)
        }
    }

    func testRefusesNegativeMalformedAndUnitless() {
        let cases: [(String, String)] = [
            ("-5ms", "duration '-5ms' is negative; a delay must be 0 or more"),
            ("300", "duration '300' needs a unit: ns, us, ms, s or m (e.g. 300ms, 1.5s)"),
            ("fast", "duration 'fast' needs a unit: ns, us, ms, s or m (e.g. 300ms, 1.5s)"),
            ("ms", "duration 'ms' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)"),
            ("1e3ms", "duration '1e3ms' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)"),
            ("1.2.3s", "duration '1.2.3s' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)"),
            ("1.s", "duration '1.s' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)"),
            ("+1s", "duration '+1s' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)"),
            ("0.5ns", "duration '0.5ns' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)"),
            ("99999999999999999999s", "duration '99999999999999999999s' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try FaultDuration(parsing: text), text) { error in
                XCTAssertEqual((error as? FaultSpecError)?.description, message)
            }
        }
    }

    func testConvertsToSwiftDuration() {
        XCTAssertEqual(FaultDuration.milliseconds(300).duration, .milliseconds(300))
    }
}
