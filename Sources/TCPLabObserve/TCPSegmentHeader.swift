import TCPLabNetlink

/// The TCP flags byte (plus NS is ignored).
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    /// tcpdump's spelling: "S", "S.", "P.", "F.", "R", "." ("none" without flags). Looked up, not
    /// built: every segment of a bulk capture asks for it.
    public var description: String { Self.spellings[Int(rawValue)] }

    private static let spellings: [String] = (0...255).map { value in
        let flags = TCPFlags(rawValue: UInt8(value))
        let letters: [(TCPFlags, Character)] = [
            (.fin, "F"), (.syn, "S"), (.rst, "R"), (.psh, "P"), (.ack, "."), (.urg, "U"), (.ece, "E"), (.cwr, "W"),
        ]
        let text = String(letters.compactMap { flags.contains($0.0) ? $0.1 : nil })
        return text.isEmpty ? "none" : text
    }
}

/// One SACK block: the receiver holds [left, right).
public struct SACKBlock: Hashable, Sendable, Codable {
    public var left: UInt32
    public var right: UInt32
    public init(left: UInt32, right: UInt32) {
        self.left = left
        self.right = right
    }
}

/// A TCP option as it appeared in the header, in order; unknown kinds are kept with their bytes.
public enum TCPOption: Hashable, Sendable {
    case endOfList
    case noOperation
    case maximumSegmentSize(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    case sack([SACKBlock])
    case timestamps(value: UInt32, echoReply: UInt32)
    case unknown(kind: UInt8, data: [UInt8])

    /// tcpdump's spelling: "mss 65495", "wscale 7", "sackOK", "TS val 1 ecr 0", "sack 1 {100:200}", "nop", "eol".
    public var tcpdumpText: String {
        switch self {
        case .endOfList: "eol"
        case .noOperation: "nop"
        case .maximumSegmentSize(let mss): "mss \(mss)"
        case .windowScale(let shift): "wscale \(shift)"
        case .sackPermitted: "sackOK"
        case .sack(let blocks): "sack \(blocks.count) " + blocks.map { "{\($0.left):\($0.right)}" }.joined()
        case .timestamps(let value, let echo): "TS val \(value) ecr \(echo)"
        case .unknown(let kind, let data): "unknown-\(kind) \(data.count)"
        }
    }
}

/// The IP and TCP headers of one segment, as parsed from the network header on.
public struct TCPSegmentHeader: Hashable, Sendable {
    /// 4 or 6.
    public var ipVersion: UInt8
    public var source: InetEndpoint
    public var destination: InetEndpoint
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var flags: TCPFlags
    /// The raw window field (not scaled).
    public var window: UInt16
    /// TCP data offset in 32-bit words (5...15).
    public var dataOffset: UInt8
    /// Payload bytes as the IP length says (the capture may hold fewer).
    public var payloadLength: Int
    public var urgentPointer: UInt16
    public var checksum: UInt16
    public var options: [TCPOption]

    public init(
        ipVersion: UInt8, source: InetEndpoint, destination: InetEndpoint, sequence: UInt32, acknowledgment: UInt32,
        flags: TCPFlags, window: UInt16, dataOffset: UInt8 = 5, payloadLength: Int = 0, urgentPointer: UInt16 = 0,
        checksum: UInt16 = 0, options: [TCPOption] = []
    ) {
        self.ipVersion = ipVersion
        self.source = source
        self.destination = destination
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.flags = flags
        self.window = window
        self.dataOffset = dataOffset
        self.payloadLength = payloadLength
        self.urgentPointer = urgentPointer
        self.checksum = checksum
        self.options = options
    }

    /// Sequence space the segment occupies: payload, plus one each for SYN and FIN.
    public var sequenceLength: UInt32 {
        UInt32(truncatingIfNeeded: payloadLength) &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
    }

    public var maximumSegmentSize: UInt16? {
        options.lazy.compactMap { if case .maximumSegmentSize(let v) = $0 { v } else { nil } }.first
    }
    public var windowScale: UInt8? {
        options.lazy.compactMap { if case .windowScale(let v) = $0 { v } else { nil } }.first
    }
    public var sackPermitted: Bool { options.contains(.sackPermitted) }
    public var sackBlocks: [SACKBlock] {
        var blocks: [SACKBlock] = []
        for case .sack(let more) in options { blocks += more }
        return blocks
    }
    public var timestamps: (value: UInt32, echoReply: UInt32)? {
        for case .timestamps(let value, let echo) in options { return (value, echo) }
        return nil
    }
}
