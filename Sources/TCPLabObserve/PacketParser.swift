import TCPLabNetlink

/// Why a packet could not be read as TCP over IPv4/IPv6.
public enum PacketParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header needs.
    case truncated(layer: String, needed: Int, available: Int)
    case unsupportedIPVersion(UInt8)
    /// The packet is not TCP (or a non-first fragment, where no TCP header follows).
    case notTCP(protocolNumber: UInt8)
    case fragment
    /// A header length field that contradicts the packet.
    case badHeaderLength(layer: String, value: Int)
    /// A TCP option that runs past the header or has an impossible length.
    case badOption(kind: UInt8, offset: Int)

    public var description: String {
        switch self {
        case .truncated(let layer, let needed, let available): "truncated \(layer): needs \(needed) bytes, has \(available)"
        case .unsupportedIPVersion(let version): "IP version \(version) is not supported"
        case .notTCP(let number): "not TCP (protocol \(number))"
        case .fragment: "a non-first IP fragment carries no TCP header"
        case .badHeaderLength(let layer, let value): "bad \(layer) header length \(value)"
        case .badOption(let kind, let offset): "bad TCP option kind \(kind) at offset \(offset)"
        }
    }
}

/// Reads IPv4/IPv6 + TCP headers from bytes that start at the network header (NFLOG payloads,
/// LINKTYPE_RAW pcap records). Every read is bounds-checked: bad input throws, never traps.
public enum PacketParser {
    static let tcpProtocol: UInt8 = 6

    public static func parse(_ packet: [UInt8]) throws(PacketParseError) -> TCPSegmentHeader {
        guard let first = packet.first else { throw .truncated(layer: "IP", needed: 1, available: 0) }
        switch first >> 4 {
        case 4: return try parseIPv4(packet)
        case 6: return try parseIPv6(packet)
        default: throw .unsupportedIPVersion(first >> 4)
        }
    }

    private static func parseIPv4(_ packet: [UInt8]) throws(PacketParseError) -> TCPSegmentHeader {
        try need(packet, 20, "IPv4")
        let headerLength = Int(packet[0] & 0x0F) * 4
        guard headerLength >= 20 else { throw .badHeaderLength(layer: "IPv4", value: headerLength) }
        try need(packet, headerLength, "IPv4")
        let totalLength = Int(be16(packet, 2))
        guard totalLength >= headerLength else { throw .badHeaderLength(layer: "IPv4 total", value: totalLength) }
        if be16(packet, 6) & 0x1FFF != 0 { throw .fragment }
        guard packet[9] == tcpProtocol else { throw .notTCP(protocolNumber: packet[9]) }
        let source = InetAddress(bytes: Array(packet[12..<16]))!
        let destination = InetAddress(bytes: Array(packet[16..<20]))!
        return try parseTCP(packet, at: headerLength, ipPayloadLength: totalLength - headerLength,
                            version: 4, source: source, destination: destination)
    }

    private static func parseIPv6(_ packet: [UInt8]) throws(PacketParseError) -> TCPSegmentHeader {
        try need(packet, 40, "IPv6")
        let payloadLength = Int(be16(packet, 4))
        guard payloadLength > 0 else { throw .badHeaderLength(layer: "IPv6 payload (jumbogram)", value: 0) }
        let source = InetAddress(bytes: Array(packet[8..<24]))!
        let destination = InetAddress(bytes: Array(packet[24..<40]))!
        var next = packet[6]
        var offset = 40
        // Skip extension headers; bounded because each one advances `offset` by at least 8.
        while next != tcpProtocol {
            switch next {
            case 0, 43, 60:  // hop-by-hop, routing, destination options: (len + 1) * 8 bytes
                try need(packet, offset + 2, "IPv6 extension header")
                let length = (Int(packet[offset + 1]) + 1) * 8
                next = packet[offset]
                offset += length
            case 44:  // fragment header, 8 bytes
                try need(packet, offset + 8, "IPv6 fragment header")
                if be16(packet, offset + 2) & 0xFFF8 != 0 { throw .fragment }
                next = packet[offset]
                offset += 8
            default:
                throw .notTCP(protocolNumber: next)
            }
            guard offset <= 40 + payloadLength else { throw .badHeaderLength(layer: "IPv6 extension", value: offset) }
        }
        return try parseTCP(packet, at: offset, ipPayloadLength: 40 + payloadLength - offset,
                            version: 6, source: source, destination: destination)
    }

    private static func parseTCP(
        _ packet: [UInt8], at start: Int, ipPayloadLength: Int, version: UInt8, source: InetAddress, destination: InetAddress
    ) throws(PacketParseError) -> TCPSegmentHeader {
        try need(packet, start + 20, "TCP")
        let dataOffset = packet[start + 12] >> 4
        let headerLength = Int(dataOffset) * 4
        guard headerLength >= 20, headerLength <= ipPayloadLength else {
            throw .badHeaderLength(layer: "TCP", value: headerLength)
        }
        try need(packet, start + headerLength, "TCP options")
        return TCPSegmentHeader(
            ipVersion: version,
            source: InetEndpoint(address: source, port: be16(packet, start)),
            destination: InetEndpoint(address: destination, port: be16(packet, start + 2)),
            sequence: be32(packet, start + 4),
            acknowledgment: be32(packet, start + 8),
            flags: TCPFlags(rawValue: packet[start + 13]),
            window: be16(packet, start + 14),
            dataOffset: dataOffset,
            payloadLength: ipPayloadLength - headerLength,
            urgentPointer: be16(packet, start + 18),
            checksum: be16(packet, start + 16),
            options: try parseOptions(Array(packet[(start + 20)..<(start + headerLength)]))
        )
    }

    /// The whole IP packet's length from its header (IPv4 total length, IPv6 payload length + 40),
    /// for a copy the kernel cut to its headers; nil when the header is not there.
    public static func ipPacketLength(_ packet: [UInt8]) -> Int? {
        guard packet.count >= 8 else { return nil }
        switch packet[0] >> 4 {
        case 4: return Int(be16(packet, 2))
        case 6: return Int(be16(packet, 4)) + 40
        default: return nil
        }
    }

    /// Parses the option bytes after the fixed 20-byte header.
    public static func parseOptions(_ bytes: [UInt8]) throws(PacketParseError) -> [TCPOption] {
        var options: [TCPOption] = []
        var offset = 0
        while offset < bytes.count {
            let kind = bytes[offset]
            if kind == 0 { options.append(.endOfList); break }  // the rest is padding
            if kind == 1 { options.append(.noOperation); offset += 1; continue }
            guard offset + 1 < bytes.count else { throw .badOption(kind: kind, offset: offset) }
            let length = Int(bytes[offset + 1])
            guard length >= 2, offset + length <= bytes.count else { throw .badOption(kind: kind, offset: offset) }
            let data = Array(bytes[(offset + 2)..<(offset + length)])
            switch (kind, length) {
            case (2, 4): options.append(.maximumSegmentSize(be16(data, 0)))
            case (3, 3): options.append(.windowScale(data[0]))
            case (4, 2): options.append(.sackPermitted)
            case (5, _) where (length - 2) % 8 == 0 && length > 2:
                options.append(.sack(stride(from: 0, to: data.count, by: 8).map {
                    SACKBlock(left: be32(data, $0), right: be32(data, $0 + 4))
                }))
            case (8, 10): options.append(.timestamps(value: be32(data, 0), echoReply: be32(data, 4)))
            case (2, _), (3, _), (4, _), (5, _), (8, _): throw .badOption(kind: kind, offset: offset)
            default: options.append(.unknown(kind: kind, data: data))
            }
            offset += length
        }
        return options
    }

    // Callers check bounds first with `need`.
    private static func need(_ packet: [UInt8], _ count: Int, _ layer: String) throws(PacketParseError) {
        if packet.count < count { throw .truncated(layer: layer, needed: count, available: packet.count) }
    }
    private static func be16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
    private static func be32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(be16(bytes, offset)) << 16 | UInt32(be16(bytes, offset + 2))
    }
}
