/// One netlink message of a received datagram: header fields and the payload after the 16-byte
/// `nlmsghdr`, a slice of the datagram (not copied). Parsed in Swift (not with
/// mnl_nlmsg_ok/next) so the parsers can be tested on hand-built bytes and a bad length throws
/// instead of reading past the buffer.
public struct NetlinkWireMessage: Sendable, Equatable {
    public static let headerLength = 16
    public static let typeError: UInt16 = 2   // NLMSG_ERROR
    public static let typeDone: UInt16 = 3    // NLMSG_DONE
    public static let typeOverrun: UInt16 = 4 // NLMSG_OVERRUN

    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    public var portID: UInt32
    public var payload: ArraySlice<UInt8>

    public init(type: UInt16, flags: UInt16, sequence: UInt32, portID: UInt32, payload: ArraySlice<UInt8>) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
        self.payload = payload
    }

    /// The errno of an NLMSG_ERROR message (0 for an ACK), or nil for other types.
    public func errorCode() throws(WireFormatError) -> Int32? {
        guard type == Self.typeError else { return nil }
        let raw = try WireReader(payload).u32(0, "nlmsgerr.error")
        return -Int32(bitPattern: raw)
    }

    /// Splits a datagram into its messages (slices of it).
    public static func split(_ datagram: [UInt8]) throws(WireFormatError) -> [NetlinkWireMessage] {
        let (frames, failure) = datagram.withUnsafeBytes { Self.frames($0) }
        if let failure { throw failure }
        let reader = WireReader(datagram)
        var messages: [NetlinkWireMessage] = []
        for frame in frames {
            messages.append(NetlinkWireMessage(
                type: try reader.u16(frame.lowerBound + 4),
                flags: try reader.u16(frame.lowerBound + 6),
                sequence: try reader.u32(frame.lowerBound + 8),
                portID: try reader.u32(frame.lowerBound + 12),
                payload: try reader.view(frame.lowerBound + headerLength, frame.count - headerLength)
            ))
        }
        return messages
    }

    /// The one walk over a datagram's messages (nlmsg_len, then NLMSG_ALIGN to the next), for
    /// the copying parser (`split`) and the in-place view the nftables client reads
    /// (`NetlinkDatagram`): where each whole message lies, and why the walk stopped early if a
    /// length was shorter than the header or ran past the datagram.
    static func frames(_ bytes: UnsafeRawBufferPointer) -> (frames: [Range<Int>], failure: WireFormatError?) {
        var frames: [Range<Int>] = []
        var offset = 0
        while bytes.count - offset >= headerLength {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length >= headerLength else {
                return (frames, WireFormatError(what: "nlmsghdr.nlmsg_len \(length)", offset: offset, needed: headerLength, available: length))
            }
            guard length <= bytes.count - offset else {
                return (frames, WireFormatError(what: "netlink message", offset: offset, needed: length, available: bytes.count - offset))
            }
            frames.append(offset..<offset + length)
            offset += align(length)
        }
        return (frames, nil)
    }

    /// NLMSG_ALIGN / NLA_ALIGN.
    @inline(__always)
    public static func align(_ length: Int) -> Int { (length + 3) & ~3 }

    /// Serialises a request: header, then `payload` (the caller aligns its parts).
    public static func encode(type: UInt16, flags: UInt16, sequence: UInt32, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerLength + payload.count)
        bytes.appendHostOrder(UInt32(headerLength + payload.count))
        bytes.appendHostOrder(type)
        bytes.appendHostOrder(flags)
        bytes.appendHostOrder(sequence)
        bytes.appendHostOrder(UInt32(0))
        bytes += payload
        return bytes
    }
}


/// One message of a datagram from an nfnetlink subsystem that sends packets (nfnetlink_log,
/// nfnetlink_queue): a packet, an NLMSG_ERROR status (errno 0 is an ACK), or anything else.
public enum NfnetlinkItem<Packet: Sendable & Equatable>: Sendable, Equatable {
    case packet(Packet)
    case status(sequence: UInt32, errno: Int32)
    /// Anything else (NLMSG_DONE, other message types).
    case other(type: UInt16)

    /// Splits a received datagram, parsing messages of `packetType` with `parsePacket`.
    public static func parse(
        datagram: [UInt8], packetType: UInt16, _ parsePacket: (ArraySlice<UInt8>) throws(WireFormatError) -> Packet
    ) throws(WireFormatError) -> [NfnetlinkItem] {
        var items: [NfnetlinkItem] = []
        for message in try NetlinkWireMessage.split(datagram) {
            if let code = try message.errorCode() {
                items.append(.status(sequence: message.sequence, errno: code))
            } else if message.type == packetType {
                items.append(.packet(try parsePacket(message.payload)))
            } else {
                items.append(.other(type: message.type))
            }
        }
        return items
    }
}

/// An nfnetlink subsystem whose packet messages (type `packetMessageType`) carry an nfgenmsg and
/// attributes: nfnetlink_log and nfnetlink_queue. `parse(datagram:)` is theirs alike.
public protocol NfnetlinkPacketMessage {
    associatedtype Packet: Sendable & Equatable
    static var packetMessageType: UInt16 { get }
    static func packet(payload: ArraySlice<UInt8>) throws(WireFormatError) -> Packet
}

extension NfnetlinkPacketMessage {
    /// One item of a received datagram.
    public typealias Item = NfnetlinkItem<Packet>

    /// Parses one received datagram.
    public static func parse(datagram: [UInt8]) throws(WireFormatError) -> [Item] {
        try Item.parse(datagram: datagram, packetType: packetMessageType) { (payload) throws(WireFormatError) in try packet(payload: payload) }
    }

    /// A packet message's nfgenmsg (the family, and res_id: the group or queue number,
    /// big-endian), then its attributes.
    static func nfgenmsg(_ payload: ArraySlice<UInt8>) throws(WireFormatError)
        -> (family: UInt8, resourceID: UInt16, attributes: [NetlinkWireAttribute]) {
        let header = WireReader(payload)
        return (try header.u8(0, "nfgenmsg.nfgen_family"), try header.u16be(2, "nfgenmsg.res_id"),
                try NetlinkWireAttribute.parse(payload, from: 4))
    }
}

/// One netlink attribute: type without the NESTED / NET_BYTEORDER bits, and its payload (a
/// slice of the message it came in).
public struct NetlinkWireAttribute: Sendable, Equatable {
    public var type: UInt16
    public var payload: ArraySlice<UInt8>

    public init(type: UInt16, payload: ArraySlice<UInt8>) {
        self.type = type
        self.payload = payload
    }

    /// Parses a run of attributes starting at `offset`.
    public static func parse(_ bytes: ArraySlice<UInt8>, from offset: Int = 0) throws(WireFormatError) -> [NetlinkWireAttribute] {
        let reader = WireReader(bytes)
        var attributes: [NetlinkWireAttribute] = []
        var offset = offset
        while bytes.count - offset >= 4 {
            let length = Int(try reader.u16(offset, "nlattr.nla_len"))
            guard length >= 4 else {
                throw WireFormatError(what: "nlattr.nla_len \(length)", offset: offset, needed: 4, available: length)
            }
            try reader.require(offset, length, "netlink attribute")
            let type = try reader.u16(offset + 2) & 0x3FFF  // NLA_TYPE_MASK
            attributes.append(NetlinkWireAttribute(type: type, payload: try reader.view(offset + 4, length - 4)))
            offset += NetlinkWireMessage.align(length)
        }
        return attributes
    }

    /// Serialises one attribute with its padding.
    public static func encode(type: UInt16, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendHostOrder(UInt16(4 + payload.count))
        bytes.appendHostOrder(type)
        bytes += payload
        bytes += [UInt8](repeating: 0, count: NetlinkWireMessage.align(bytes.count) - bytes.count)
        return bytes
    }
}

extension Array where Element == UInt8 {
    /// Appends in host byte order.
    public mutating func appendHostOrder<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value) { append(contentsOf: $0) }
    }
    /// Appends in network byte order.
    public mutating func appendNetworkOrder<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
