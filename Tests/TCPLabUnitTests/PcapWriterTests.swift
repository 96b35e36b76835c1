import TCPLabObserve
import XCTest

final class PcapWriterTests: XCTestCase {
    func testGlobalHeaderAndRecordBytes() {
        var writer = PcapWriter(linkType: .raw, snapshotLength: 65535)
        XCTAssertEqual(writer.bytes, [
            0xD4, 0xC3, 0xB2, 0xA1,  // magic a1b2c3d4 (µs), little-endian host
            0x02, 0x00, 0x04, 0x00,  // version 2.4
            0x00, 0x00, 0x00, 0x00,  // thiszone
            0x00, 0x00, 0x00, 0x00,  // sigfigs
            0xFF, 0xFF, 0x00, 0x00,  // snaplen 65535
            0x65, 0x00, 0x00, 0x00,  // LINKTYPE_RAW 101
        ])
        writer.append(packet: [0x45, 0x00, 0x00, 0x14], timestampMicroseconds: 1_700_000_000_123_456)
        XCTAssertEqual(writer.packetCount, 1)
        XCTAssertEqual(Array(writer.bytes[24...]), [
            0x00, 0xF1, 0x53, 0x65,  // ts_sec 1700000000
            0x40, 0xE2, 0x01, 0x00,  // ts_usec 123456
            0x04, 0x00, 0x00, 0x00,  // incl_len
            0x04, 0x00, 0x00, 0x00,  // orig_len
            0x45, 0x00, 0x00, 0x14,
        ])
    }

    func testSnapshotLengthCutsButKeepsOriginalLength() {
        var writer = PcapWriter(linkType: .ipv4, snapshotLength: 2)
        XCTAssertEqual(writer.bytes[20], 228)
        writer.append(packet: [1, 2, 3, 4, 5], timestampMicroseconds: 0)
        XCTAssertEqual(Array(writer.bytes[32..<40]), [2, 0, 0, 0, 5, 0, 0, 0])
        XCTAssertEqual(writer.bytes.count, 24 + 16 + 2)
    }

    /// The file is written at the end of a run: if its folder went away meanwhile, the error is
    /// still one line naming the cause, not Foundation's "Error Domain=NSCocoaErrorDomain Code=4".
    func testPcapWriteErrorNamesTheCause() {
        let writer = PcapWriter()
        XCTAssertThrowsError(try writer.write(toFile: "/nonexistent/dir/x.pcap")) { error in
            XCTAssertEqual(String(describing: error), "cannot write /nonexistent/dir/x.pcap: directory /nonexistent/dir does not exist")
        }
    }
}
