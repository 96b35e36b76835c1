import Foundation
import TCPLabObserve

/// The TCP segments of a pcap file that faultproxy wrote (`--pcap`: raw IP, link type 101 or
/// 228/229, the kernel's timestamps). The judge reads it where the other end's sockets are out of
/// its sight: on two hosts it shares only the server's namespace.
struct WireSegment: Sendable, Equatable {
    /// Seconds since the epoch (the kernel's realtime clock, as the pcap record carries it).
    var time: Double
    var sourcePort: UInt16
    var destinationPort: UInt16
    var sequence: UInt32
    var acknowledgment: UInt32
    var flags: UInt8
    var payloadLength: Int

    var fin: Bool { flags & 0x01 != 0 }
    var syn: Bool { flags & 0x02 != 0 }
    var rst: Bool { flags & 0x04 != 0 }
    var ack: Bool { flags & 0x10 != 0 }
}

enum PcapSegments {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func read(path: String) throws -> [WireSegment] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Unreadable(description: "no \(path)") }
        return try parse([UInt8](data))
    }

    static func parse(_ bytes: [UInt8]) throws -> [WireSegment] {
        guard bytes.count >= 24 else { throw Unreadable(description: "shorter than a pcap header") }
        let magic = little32(bytes, 0)
        let fractionScale: Double
        switch magic {
        case 0xA1B2_C3D4: fractionScale = 1e-6
        case 0xA1B2_3C4D: fractionScale = 1e-9
        default: throw Unreadable(description: String(format: "not a little-endian pcap file (magic %08x)", magic))
        }
        let linkType = little32(bytes, 20)
        guard [101, 228, 229].contains(linkType) else { throw Unreadable(description: "link type \(linkType), not raw IP") }
        var segments: [WireSegment] = []
        var offset = 24
        while offset + 16 <= bytes.count {
            let seconds = Double(little32(bytes, offset))
            let fraction = Double(little32(bytes, offset + 4))
            let captured = Int(little32(bytes, offset + 8))
            offset += 16
            guard offset + captured <= bytes.count else { break }
            if let segment = tcp(Array(bytes[offset..<(offset + captured)]), time: seconds + fraction * fractionScale) {
                segments.append(segment)
            }
            offset += captured
        }
        return segments
    }

    /// The TCP header of one raw IPv4 or IPv6 packet, as the timeline's own parser reads it.
    static func tcp(_ packet: [UInt8], time: Double) -> WireSegment? {
        guard let header = try? PacketParser.parse(packet) else { return nil }
        return WireSegment(time: time, sourcePort: header.source.port, destinationPort: header.destination.port,
                           sequence: header.sequence, acknowledgment: header.acknowledgment,
                           flags: header.flags.rawValue, payloadLength: header.payloadLength)
    }

    static func little32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
