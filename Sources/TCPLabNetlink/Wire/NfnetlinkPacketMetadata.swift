/// What nfnetlink_log and nfnetlink_queue both say of a packet besides its bytes — its mark, the
/// kernel's timestamp, the interfaces — with the same payloads under each subsystem's own
/// attribute numbers.
struct NfnetlinkPacketMetadata {
    /// One subsystem's numbers for the four, and their names for errors.
    struct Numbering: Sendable {
        let mark: UInt16, timestamp: UInt16, inputInterface: UInt16, outputInterface: UInt16
        let markName: String, timestampName: String, inputInterfaceName: String, outputInterfaceName: String

        /// `prefix`: the attributes' C prefix, "NFULA" or "NFQA".
        init(_ prefix: String, mark: UInt16, timestamp: UInt16, inputInterface: UInt16, outputInterface: UInt16) {
            (self.mark, self.timestamp, self.inputInterface, self.outputInterface) = (mark, timestamp, inputInterface, outputInterface)
            markName = "\(prefix)_MARK"
            timestampName = "\(prefix)_TIMESTAMP"
            inputInterfaceName = "\(prefix)_IFINDEX_INDEV"
            outputInterfaceName = "\(prefix)_IFINDEX_OUTDEV"
        }
    }

    var mark: UInt32?
    var timestampMicroseconds: Int64?
    var inputInterface: UInt32?
    var outputInterface: UInt32?

    /// Reads `attribute` when it is one of the four; false when it is not.
    mutating func read(_ attribute: NetlinkWireAttribute, _ numbering: Numbering) throws(WireFormatError) -> Bool {
        let value = WireReader(attribute.payload)
        switch attribute.type {
        case numbering.mark: mark = try value.u32be(0, numbering.markName)
        case numbering.timestamp: timestampMicroseconds = try value.packetTimestampMicroseconds(numbering.timestampName)
        case numbering.inputInterface: inputInterface = try value.u32be(0, numbering.inputInterfaceName)
        case numbering.outputInterface: outputInterface = try value.u32be(0, numbering.outputInterfaceName)
        default: return false
        }
        return true
    }
}
