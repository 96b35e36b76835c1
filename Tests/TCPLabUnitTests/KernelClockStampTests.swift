import TCPLabNetlink
import TCPLabObserve
import XCTest

/// A host's own segments are timed by the low 32 bits of `meta time` their log rule lent the mark.
final class KernelClockStampTests: XCTestCase {
    private let window = KernelClockStamp.window

    func testTheStampIsPlacedInTheWindowAtOrBeforeTheRead() {
        let kernel: Int64 = 1_796_158_675_239_343_123
        let stamp = KernelClockStamp(mark: UInt32(truncatingIfNeeded: kernel))
        XCTAssertEqual(stamp.nanoseconds(readAt: kernel), kernel, "read at once")
        XCTAssertEqual(stamp.nanoseconds(readAt: kernel + 40_000), kernel, "read 40 µs later")
        XCTAssertEqual(stamp.nanoseconds(readAt: kernel + window - 1), kernel, "read just under 4.29 s later")
        XCTAssertEqual(stamp.nanoseconds(readAt: kernel + window), kernel + window, "a whole window late is ambiguous: the newest wins")
    }

    func testAReadJustAfterTheLowBitsWrapStillFindsTheEarlierWindow() {
        // The kernel stamped just before a multiple of 2^32 ns; the reader reads just after it.
        let boundary: Int64 = 418_000 * window
        let kernel = boundary - 1_000
        let stamp = KernelClockStamp(mark: UInt32(truncatingIfNeeded: kernel))
        XCTAssertEqual(stamp.nanoseconds(readAt: boundary + 5_000), kernel)
    }

    func testARecordWithoutNFLOGsTimestampTakesTheStamp() throws {
        // A SYN from 10.0.0.1:40000 to 10.0.0.2:7000, logged at output (no NFULA_TIMESTAMP).
        let kernel: Int64 = 1_796_158_000_123_456_789
        var packet: [UInt8] = [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        packet += [0x9c, 0x40, 0x1b, 0x58, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]
        let own = NFLogRecord(group: 1, family: 2, hook: 3, timestampMicroseconds: nil, prefix: "tcplab pass",
                              mark: UInt32(truncatingIfNeeded: kernel), packet: packet)
        XCTAssertEqual(try CapturedSegment(record: own, readAt: kernel + 300_000).timestampMicroseconds, kernel / 1000)
        // Where NFLOG has its own timestamp (prerouting), that one is used.
        var arrived = own
        arrived.timestampMicroseconds = 42
        XCTAssertEqual(try CapturedSegment(record: arrived, readAt: kernel).timestampMicroseconds, 42)
    }
}
