/// One netlink message of a received datagram, copied out: header fields and the payload after
/// the 16-byte `nlmsghdr`. Parsed in Swift (not with mnl_nlmsg_ok/next) so the parsers can be
/// tested on hand-built bytes and a bad length throws instead of reading past the buffer.
public struct NetlinkWireMessage: Sendable, Equatable {
    public static let headerLength = 16
    public static let typeError: UInt16 = 2   // NLMSG_ERROR
    public static let typeDone: UInt16 = 3    // NLMSG_DONE
    public static let typeOverrun: UInt16 = 4 // NLMSG_OVERRUN

    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    public var portID: UInt32
    public var payload: [UInt8]

    public init(type: UInt16, flags: UInt16, sequence: UInt32, portID: UInt32, payload: [UInt8]) {
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

    /// Splits a datagram into its messages (each NLMSG_ALIGNed).
    public static func split(_ datagram: [UInt8]) throws(WireFormatError) -> [NetlinkWireMessage] {
        let reader = WireReader(datagram)
        var messages: [NetlinkWireMessage] = []
        var offset = 0
        while datagram.count - offset >= headerLength {
            let length = Int(try reader.u32(offset, "nlmsghdr.nlmsg_len"))
            guard length >= headerLength else {
                throw WireFormatError(what: "nlmsghdr.nlmsg_len \(length)", offset: offset, needed: headerLength, available: length)
            }
            try reader.require(offset, length, "netlink message")
            messages.append(NetlinkWireMessage(
                type: try reader.u16(offset + 4),
                flags: try reader.u16(offset + 6),
                sequence: try reader.u32(offset + 8),
                portID: try reader.u32(offset + 12),
                payload: try reader.slice(offset + headerLength, length - headerLength)
            ))
            offset += NetlinkWireMessage.align(length)
        }
        return messages
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


/// One netlink attribute: type without the NESTED / NET_BYTEORDER bits, and its payload.
/// One message of a datagram from an nfnetlink subsystem that sends packets (nfnetlink_log,
/// nfnetlink_queue): a packet, an NLMSG_ERROR status (errno 0 is an ACK), or anything else.
public enum NfnetlinkItem<Packet: Sendable & Equatable>: Sendable, Equatable {
    case packet(Packet)
    case status(sequence: UInt32, errno: Int32)
    /// Anything else (NLMSG_DONE, other message types).
    case other(type: UInt16)

    /// Splits a received datagram, parsing messages of `packetType` with `parsePacket`.
    public static func parse(
        datagram: [UInt8], packetType: UInt16, _ parsePacket: ([UInt8]) throws(WireFormatError) -> Packet
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

public struct NetlinkWireAttribute: Sendable, Equatable {
    public var type: UInt16
    public var payload: [UInt8]

    public init(type: UInt16, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }

    /// Parses a run of attributes starting at `offset`.
    public static func parse(_ bytes: [UInt8], from offset: Int = 0) throws(WireFormatError) -> [NetlinkWireAttribute] {
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
            attributes.append(NetlinkWireAttribute(type: type, payload: try reader.slice(offset + 4, length - 4)))
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
