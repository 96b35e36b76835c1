import TCPLabFault
import XCTest

/// `--delay` / `--duplicate` input: what is accepted, and the one-line refusals that come
/// before anything is installed.
final class DelaySpecParsingTests: XCTestCase {
    func testAcceptedSpellings() throws {
        XCTAssertEqual(try DelaySpec(parsing: "synack=300ms"), DelaySpec(.synack, delay: .milliseconds(300)))
        XCTAssertEqual(try DelaySpec(parsing: "fin:1=2s"), DelaySpec(.fin, .first(1), delay: .seconds(2)))
        XCTAssertEqual(try DelaySpec(parsing: "data@3=1.5s~250ms"),
                       DelaySpec(.data, .only(3), delay: .milliseconds(1500), jitter: .milliseconds(250)))
        XCTAssertEqual(try DelaySpec(parsing: "handshake-2=100ms"), DelaySpec(.synack, delay: .milliseconds(100)))
        // Jitter as large as the delay: waits from 0 to twice the delay.
        XCTAssertEqual(try DelaySpec(parsing: "data=5ms~5ms"), DelaySpec(.data, delay: .milliseconds(5), jitter: .milliseconds(5)))
        XCTAssertEqual(try DelaySpec(parsing: "syn=10m"), DelaySpec(.syn, delay: .seconds(600)))
        XCTAssertEqual(try DuplicateSpec(parsing: "syn=500ms"), DuplicateSpec(.syn, copyDelay: .milliseconds(500)))
        XCTAssertEqual(try DuplicateSpec(parsing: "syn=0"), DuplicateSpec(.syn), "a copy right behind the original")
    }

    func testRefusals() {
        let names = SegmentKind.validNames
        let cases: [(String, String)] = [
            ("synak=300ms", "'synak': unknown segment 'synak'; valid: \(names)"),
            ("synack=-300ms", "'synack=-300ms': duration '-300ms' is negative; a delay must be 0 or more"),
            ("synack=300", "'synack=300': duration '300' needs a unit: ns, us, ms, s or m (e.g. 300ms, 1.5s)"),
            ("synack=3OOms", "'synack=3OOms': duration '3OOms' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)"),
            ("synack=0", "'synack=0': a delay of 0 holds nothing; give a duration such as synack=300ms"),
            ("fin:0=1s", "'fin:0': count N in fin:N must be 1...255, not 0"),
            ("fin:300=1s", "'fin:300': count N in fin:N must be 1...255, not 300"),
            ("fin=1s:2", "'fin=1s:2': the count goes before '=', as in fin:N=DURATION (':' after the duration means nothing)"),
            ("data=1s@2", "'data=1s@2': the count goes before '=', as in data@N=DURATION ('@' after the duration means nothing)"),
            ("data%0.3=1s", "'data%0.3': a probability (%P) is only for --drop; use data:N or data@K"),
            ("syn=11m", "'syn=11m': a segment can be held at most 600s (delay plus jitter)"),
            ("syn=9m~2m", "'syn=9m~2m': a segment can be held at most 600s (delay plus jitter)"),
            ("synack=10ms~20ms", "'synack=10ms~20ms': the jitter (20ms) is larger than the delay (10ms), so some waits would be below zero; give a jitter of at most 10ms"),
            ("data=0~5ms", "'data=0~5ms': the jitter (5ms) is larger than the delay (0), so some waits would be below zero; give a jitter of at most 0"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try DelaySpec(parsing: text), text) { error in
                XCTAssertEqual((error as? FaultSpecError)?.description, message, text)
                XCTAssertFalse(String(describing: error).contains("\n"))
            }
        }
        XCTAssertThrowsError(try DuplicateSpec(parsing: "syn=1ms~2ms")) { error in
            XCTAssertEqual((error as? FaultSpecError)?.description,
                           "'syn=1ms~2ms': the jitter (2ms) is larger than the delay (1ms), so some waits would be below zero; give a jitter of at most 1ms")
        }
        XCTAssertThrowsError(try DuplicateSpec(parsing: "syn=1s:1")) { error in
            XCTAssertEqual((error as? FaultSpecError)?.description,
                           "'syn=1s:1': the count goes before '=', as in syn:N=DURATION (':' after the duration means nothing)")
        }
    }

    func testAQueuedFaultBehindOneTakingEverySuchSegmentIsRefused() throws {
        let shadowed = FaultPlan(port: 7000, drops: [DropSpec(.syn)], delays: [DelaySpec(.syn, delay: .seconds(1))])
        XCTAssertThrowsError(try shadowed.validate()) { error in
            XCTAssertEqual((error as? FaultSpecError)?.description, "--delay syn=1s never applies: --drop syn takes every syn segment first")
        }
        let twice = FaultPlan(port: 7000, delays: [DelaySpec(.fin, delay: .seconds(1))], duplicates: [DuplicateSpec(.fin, .first(1))])
        XCTAssertThrowsError(try twice.validate()) { error in
            XCTAssertEqual((error as? FaultSpecError)?.description, "--duplicate fin:1 never applies: --delay fin=1s takes every fin segment first")
        }
        // Counted ones leave the rest for the next fault.
        XCTAssertNoThrow(try FaultPlan(port: 7000, drops: [DropSpec(.syn, .first(1))], delays: [DelaySpec(.syn, delay: .seconds(1))]).validate())
        XCTAssertNoThrow(try FaultPlan(port: 7000, delays: [DelaySpec(.synack, delay: .seconds(1))], duplicates: [DuplicateSpec(.syn)]).validate())
    }

    func testQueuedFaultsAreTaggedInOrderAndTheMarkCarriesTheTag() {
        let plan = FaultPlan(port: 7000, delays: [DelaySpec(.synack, delay: .milliseconds(300))], duplicates: [DuplicateSpec(.syn)])
        XCTAssertEqual(plan.queuedFaults.map(\.tag), [1, 2])
        XCTAssertEqual(plan.queuedFaults.map(\.verb), ["delay", "duplicate"])
        XCTAssertEqual(QueuedFault.tag(ofMark: plan.queuedFaults[1].markBits | 0x0000_00ff), 2)
    }
}
