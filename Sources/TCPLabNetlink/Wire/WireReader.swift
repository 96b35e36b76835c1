/// A truncated or inconsistent message: what was being read and how many bytes were missing.
public struct WireFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public var what: String
    public var offset: Int
    public var needed: Int
    public var available: Int

    public init(what: String, offset: Int, needed: Int, available: Int) {
        self.what = what
        self.offset = offset
        self.needed = needed
        self.available = available
    }

    public var description: String {
        "\(what): needs \(needed) bytes at offset \(offset), only \(available) available"
    }
}

/// Bounds-checked reads of fixed-width fields from received bytes. Netlink attribute payloads
/// are only 4-byte aligned and packet headers not aligned at all, so every read is
/// `loadUnaligned`; an out-of-range read throws instead of trapping. Offsets count from the
/// start of `bytes`, which may be a slice of a whole datagram: messages and attributes are
/// read in place, never copied out (a bulk capture parses ~100k records a second).
public struct WireReader: Sendable {
    public let bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }
    public init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    public var count: Int { bytes.count }

    public func require(_ offset: Int, _ width: Int, _ what: String) throws(WireFormatError) {
        guard offset >= 0, width >= 0, offset <= bytes.count, width <= bytes.count - offset else {
            throw WireFormatError(what: what, offset: offset, needed: width, available: max(0, bytes.count - max(0, offset)))
        }
    }

    private func load<T: FixedWidthInteger>(_ type: T.Type, _ offset: Int, _ what: String) throws(WireFormatError) -> T {
        try require(offset, MemoryLayout<T>.size, what)
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    public func u8(_ offset: Int, _ what: String = "u8") throws(WireFormatError) -> UInt8 {
        try load(UInt8.self, offset, what)
    }
    /// Host byte order (netlink headers, sock_diag timers).
    public func u16(_ offset: Int, _ what: String = "u16") throws(WireFormatError) -> UInt16 {
        try load(UInt16.self, offset, what)
    }
    public func u32(_ offset: Int, _ what: String = "u32") throws(WireFormatError) -> UInt32 {
        try load(UInt32.self, offset, what)
    }
    /// Network byte order (ports, TCP fields, NFLOG timestamps).
    public func u16be(_ offset: Int, _ what: String = "be16") throws(WireFormatError) -> UInt16 {
        UInt16(bigEndian: try load(UInt16.self, offset, what))
    }
    public func u32be(_ offset: Int, _ what: String = "be32") throws(WireFormatError) -> UInt32 {
        UInt32(bigEndian: try load(UInt32.self, offset, what))
    }
    public func u64be(_ offset: Int, _ what: String = "be64") throws(WireFormatError) -> UInt64 {
        UInt64(bigEndian: try load(UInt64.self, offset, what))
    }
    /// A copy of `length` bytes at `offset`.
    public func slice(_ offset: Int, _ length: Int, _ what: String = "bytes") throws(WireFormatError) -> [UInt8] {
        Array(try view(offset, length, what))
    }

    /// The same bytes in place (sharing the datagram's storage).
    public func view(_ offset: Int, _ length: Int, _ what: String = "bytes") throws(WireFormatError) -> ArraySlice<UInt8> {
        try require(offset, length, what)
        let start = bytes.startIndex + offset
        return bytes[start..<(start + length)]
    }
}

extension WireReader {
    /// The packet timestamp nfnetlink_log and nfnetlink_queue both send (struct
    /// nfulnl_msg_packet_timestamp / nfqnl_msg_packet_timestamp: __aligned_be64 sec, usec), in µs.
    public func packetTimestampMicroseconds(_ attribute: String) throws(WireFormatError) -> Int64 {
        // One check for both fields, so the names are not built for every packet.
        guard count >= 16 else {
            throw WireFormatError(what: "\(attribute) (sec, usec)", offset: 0, needed: 16, available: count)
        }
        let seconds = try u64be(0)
        let microseconds = try u64be(8)
        return Int64(bitPattern: seconds) &* 1_000_000 &+ Int64(bitPattern: microseconds)
    }
}
