/// What identifies a re-injected copy when it comes back through the queue: addresses and the
/// whole TCP segment, but not the IPv4 id, TTL or header checksum, which the raw send may set.
struct SegmentFingerprint: Hashable {
    let bytes: [UInt8]

    init?(packet: [UInt8]) {
        guard let version = packet.first.map({ $0 >> 4 }) else { return nil }
        switch version {
        case 4:
            let headerLength = Int(packet[0] & 0x0f) * 4
            guard headerLength >= 20, packet.count >= headerLength else { return nil }
            bytes = [4] + packet[12..<20] + packet[headerLength...]
        case 6:
            guard packet.count >= 40 else { return nil }
            bytes = [6] + packet[8..<40] + packet[40...]
        default:
            return nil
        }
    }
}
