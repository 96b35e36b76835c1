/// The nfnetlink_log wire format (linux/netfilter/nfnetlink_log.h): building the config
/// requests and parsing what the kernel sends back. Pure functions on bytes.
public enum NFLogMessage: NfnetlinkPacketMessage {
    static let subsystem: UInt8 = 4           // NFNL_SUBSYS_ULOG
    static let packetType: UInt8 = 0          // NFULNL_MSG_PACKET
    static let configType: UInt8 = 1          // NFULNL_MSG_CONFIG

    /// NFULA_CFG_CMD commands.
    public enum Command: UInt8, Sendable {
        case bind = 1, unbind = 2, bindFamily = 3, unbindFamily = 4
    }

    /// NFULNL_COPY_*.
    public enum CopyMode: UInt8, Sendable {
        case none = 0, meta = 1, packet = 2
    }

    enum PacketAttribute: UInt16 {
        case header = 1, mark = 2, timestamp = 3, inputInterface = 4, outputInterface = 5
        case payload = 9, prefix = 10
    }

    enum ConfigAttribute: UInt16 {
        case command = 1, mode = 2, bufferSize = 3, timeout = 4, queueThreshold = 5, flags = 6
    }

    public static var packetMessageType: UInt16 { UInt16(subsystem) << 8 | UInt16(packetType) }
    public static var configMessageType: UInt16 { UInt16(subsystem) << 8 | UInt16(configType) }

    static func config(group: UInt16, family: UInt8 = 0, sequence: UInt32, attributes: [[UInt8]]) -> [UInt8] {
        NfnetlinkRequest.encode(type: configMessageType, family: family, resource: group, sequence: sequence, attributes: attributes)
    }

    /// NFULA_CFG_CMD (bind, unbind, ...).
    public static func command(_ command: Command, group: UInt16, sequence: UInt32) -> [UInt8] {
        config(group: group, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.command.rawValue, payload: [command.rawValue])
        ])
    }

    /// NFULA_CFG_MODE: struct nfulnl_msg_config_mode { __be32 copy_range; __u8 copy_mode; __u8 _pad; } (packed, 6 bytes).
    public static func mode(_ mode: CopyMode, range: UInt32, group: UInt16, sequence: UInt32) -> [UInt8] {
        var payload: [UInt8] = []
        payload.appendNetworkOrder(range)
        payload += [mode.rawValue, 0]
        return config(group: group, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.mode.rawValue, payload: payload)
        ])
    }

    /// NFULA_CFG_QTHRESH (big-endian): how many packets the kernel batches before sending.
    /// 1 means every packet is delivered at once.
    public static func queueThreshold(_ count: UInt32, group: UInt16, sequence: UInt32) -> [UInt8] {
        config(group: group, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.queueThreshold.rawValue, networkOrder: count)
        ])
    }

    /// NFULA_CFG_TIMEOUT (big-endian, 1/100 s): the flush timer for a partly filled batch.
    public static func flushTimeout(centiseconds: UInt32, group: UInt16, sequence: UInt32) -> [UInt8] {
        config(group: group, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.timeout.rawValue, networkOrder: centiseconds)
        ])
    }

    /// NFULA_CFG_NLBUFSIZ (big-endian): the size of the kernel's batch buffer (4096 by default,
    /// at most 131072): how many logged packets fit in one datagram.
    public static func batchBufferSize(_ bytes: UInt32, group: UInt16, sequence: UInt32) -> [UInt8] {
        config(group: group, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.bufferSize.rawValue, networkOrder: bytes)
        ])
    }

    static let metadataNumbering = NfnetlinkPacketMetadata.Numbering(
        "NFULA", mark: PacketAttribute.mark.rawValue, timestamp: PacketAttribute.timestamp.rawValue,
        inputInterface: PacketAttribute.inputInterface.rawValue, outputInterface: PacketAttribute.outputInterface.rawValue)

    /// Parses an NFULNL_MSG_PACKET payload: nfgenmsg, then attributes.
    public static func packet(payload: ArraySlice<UInt8>) throws(WireFormatError) -> NFLogRecord {
        let (family, group, attributes) = try nfgenmsg(payload)
        var record = NFLogRecord(group: group, family: family, timestampMicroseconds: nil, prefix: "", packet: [])
        var metadata = NfnetlinkPacketMetadata()
        for attribute in attributes where try !metadata.read(attribute, metadataNumbering) {
            switch PacketAttribute(rawValue: attribute.type) {
            case .header:
                // struct nfulnl_msg_packet_hdr { __be16 hw_protocol; __u8 hook; __u8 _pad; }
                let value = WireReader(attribute.payload)
                record.hwProtocol = try value.u16be(0, "nfulnl_msg_packet_hdr.hw_protocol")
                record.hook = try value.u8(2, "nfulnl_msg_packet_hdr.hook")
            case .payload:
                record.packet = Array(attribute.payload)
            case .prefix:
                let text = attribute.payload.prefix { $0 != 0 }
                record.prefix = String(decoding: text, as: UTF8.self)
            default:
                continue
            }
        }
        record.timestampMicroseconds = metadata.timestampMicroseconds
        record.mark = metadata.mark
        record.inputInterface = metadata.inputInterface
        record.outputInterface = metadata.outputInterface
        return record
    }
}
