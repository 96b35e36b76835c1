import Foundation
import TCPLabSchema
import TCPLabSystem
import XCTest

/// The timeline's hand-written JSON line writer against JSONEncoder (what JSONLines writes for
/// every other record): byte for byte, for every key set, none set, escapes and extremes.
final class TimelineJSONLineTests: XCTestCase {
    /// Every optional set: a key added to TimelineEvent without a line in its writer fails here.
    static let everyKey = TimelineEvent(
        connection: 3, offsetMicroseconds: -5, timeUnixMicroseconds: Int64.max, from: .server,
        source: "[::1]:7000", destination: "[::1]:40000", kind: .data, retransmission: false, fate: .released,
        faultKind: .data, flags: "P.", sequenceRelative: UInt32.max, acknowledgmentRelative: 1, sequenceRaw: 4_000_000_000,
        acknowledgmentRaw: 7, payloadBytes: 65_483, windowRaw: 512, windowBytes: 65_536, maximumSegmentSizeBytes: 1460,
        windowScale: 14, sackPermitted: false, timestampValue: 9, timestampEchoReply: 10, sackRelative: [[1, 2], [5, 9]],
        options: ["nop", "nop", "TS val 9 ecr 10"], faultDelayMicroseconds: 300_000, faultJitterMicroseconds: 0,
        heldMicroseconds: 300_123
    )

    func line(_ event: TimelineEvent) -> String {
        var bytes: [UInt8] = []
        event.appendJSONLine(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    func testTheFixtureSetsEveryOptional() {
        for child in Mirror(reflecting: Self.everyKey).children {
            if let optional = child.value as? any OptionalProtocol { XCTAssertFalse(optional.isNone, "\(child.label ?? "?") is nil in the fixture") }
        }
    }

    func testTheLineIsWhatJSONEncoderWrites() throws {
        var bare = Self.everyKey
        (bare.acknowledgmentRelative, bare.faultKind, bare.windowBytes, bare.maximumSegmentSizeBytes) = (nil, nil, nil, nil)
        (bare.windowScale, bare.sackPermitted, bare.timestampValue, bare.timestampEchoReply) = (nil, nil, nil, nil)
        (bare.sackRelative, bare.faultDelayMicroseconds, bare.faultJitterMicroseconds, bare.heldMicroseconds) = (nil, nil, nil, nil)
        bare.options = []
        var escaped = bare
        escaped.source = "a\"b\\c/d\ne\tf\u{1}g é ✓"
        escaped.sackRelative = []
        escaped.offsetMicroseconds = .min
        escaped.payloadBytes = 0
        for event in [Self.everyKey, bare, escaped, SchemaRoundTripTests.segment] {
            XCTAssertEqual(line(event), JSONLines.encode(TimelineRecord.segment(event)) + "\n")
            let decoded = try JSONDecoder().decode(TimelineRecord.self, from: Data(line(event).utf8))
            XCTAssertEqual(decoded, .segment(event))
        }
    }
}

extension TimelineJSONLineTests {
    /// A batch is thousands of lines: appending one must extend the caller's buffer in place, not
    /// copy it (a copy per line made a 1 GiB transfer's timeline quadratic, and faultproxy hung in CI).
    func testLinesAppendInPlace() {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 20)
        let start = bytes.withUnsafeBufferPointer { $0.baseAddress }
        for _ in 0..<100 { Self.everyKey.appendJSONLine(to: &bytes) }
        XCTAssertEqual(bytes.withUnsafeBufferPointer { $0.baseAddress }, start, "the buffer was copied")
        XCTAssertEqual(bytes.split(separator: UInt8(ascii: "\n")).count, 100)
    }
}

private protocol OptionalProtocol { var isNone: Bool { get } }
extension Optional: OptionalProtocol { var isNone: Bool { self == nil } }
