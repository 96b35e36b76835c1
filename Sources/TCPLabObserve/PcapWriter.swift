import Foundation

/// Classic libpcap files (not pcapng): a 24-byte global header, then per packet a 16-byte
/// record header and the bytes. Microsecond timestamps; host byte order, which readers detect
/// from the magic number. `tcpdump -r` reads them.
public struct PcapWriter: Sendable {
    /// The link-layer header type of every record.
    public struct LinkType: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Raw IP, version from the first nibble (what NFLOG payloads are).
        public static let raw = LinkType(rawValue: 101)
        public static let ipv4 = LinkType(rawValue: 228)
        public static let ipv6 = LinkType(rawValue: 229)
    }

    public let linkType: LinkType
    public let snapshotLength: UInt32
    /// The whole file so far.
    public private(set) var bytes: [UInt8]
    public private(set) var packetCount = 0

    public init(linkType: LinkType = .raw, snapshotLength: UInt32 = 262_144) {
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        bytes = Self.fileHeader(linkType: linkType, snapshotLength: snapshotLength)
    }

    /// The global header: magic a1b2c3d4 (µs), version 2.4, zone 0, sigfigs 0, snaplen, linktype.
    public static func fileHeader(linkType: LinkType, snapshotLength: UInt32) -> [UInt8] {
        var header: [UInt8] = []
        append(&header, UInt32(0xA1B2_C3D4))
        append(&header, UInt16(2))
        append(&header, UInt16(4))
        append(&header, Int32(0))
        append(&header, UInt32(0))
        append(&header, snapshotLength)
        append(&header, linkType.rawValue)
        return header
    }

    /// Appends one packet stamped `timestampMicroseconds` after the Unix epoch; packets longer
    /// than the snapshot length are cut, keeping their original length in the record.
    public mutating func append(packet: [UInt8], timestampMicroseconds: Int64, originalLength: Int? = nil) {
        let captured = min(packet.count, Int(snapshotLength))
        let seconds = timestampMicroseconds >= 0 ? timestampMicroseconds / 1_000_000 : 0
        let micros = timestampMicroseconds >= 0 ? timestampMicroseconds % 1_000_000 : 0
        Self.append(&bytes, UInt32(truncatingIfNeeded: seconds))
        Self.append(&bytes, UInt32(micros))
        Self.append(&bytes, UInt32(captured))
        Self.append(&bytes, UInt32(max(captured, originalLength ?? packet.count)))
        bytes += packet[0..<captured]
        packetCount += 1
    }

    /// Appends every segment with its kernel timestamp.
    public mutating func append(_ segments: [CapturedSegment]) {
        for segment in segments where !segment.packet.isEmpty {
            append(packet: segment.packet, timestampMicroseconds: segment.timestampMicroseconds)
        }
    }

    /// Writes the file atomically.
    public func write(toFile path: String) throws(PcapFileError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            // Foundation's own text is "Error Domain=NSCocoaErrorDomain Code=4 ...": name the usual cause instead.
            try Self.checkDestination(path)
            throw PcapFileError(path: path, reason: error.localizedDescription)
        }
    }

    /// Throws when `path` cannot be written: its directory is missing, not a directory or not
    /// writable, or `path` is a directory. The commands call it before they install any rule,
    /// so a mistyped --pcap costs nothing; the file itself is written at the end of the run.
    public static func checkDestination(_ path: String) throws(PcapFileError) {
        let files = FileManager.default
        let parent = (path as NSString).deletingLastPathComponent
        let directory = parent.isEmpty ? "." : parent
        var isDirectory: ObjCBool = false
        if files.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw PcapFileError(path: path, reason: "it is a directory")
        }
        guard files.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw PcapFileError(path: path, reason: "directory \(directory) does not exist")
        }
        guard isDirectory.boolValue else { throw PcapFileError(path: path, reason: "\(directory) is not a directory") }
        guard files.isWritableFile(atPath: directory) else {
            throw PcapFileError(path: path, reason: "directory \(directory) is not writable")
        }
    }

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }
}

/// A pcap file that cannot be written, in one line: "cannot write /x/y.pcap: directory /x does not exist".
public struct PcapFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}
