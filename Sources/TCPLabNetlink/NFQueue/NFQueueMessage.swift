/// The nfnetlink_queue wire format (linux/netfilter/nfnetlink_queue.h): the config requests a
/// queue reader sends, the verdicts it answers with, and the packets the kernel hands it.
/// Pure functions on bytes, so each layout is tested without a kernel.
public enum NFQueueMessage: NfnetlinkPacketMessage {
    static let subsystem: UInt8 = 3              // NFNL_SUBSYS_QUEUE
    static let packetType: UInt8 = 0             // NFQNL_MSG_PACKET
    static let verdictType: UInt8 = 1            // NFQNL_MSG_VERDICT
    static let configType: UInt8 = 2             // NFQNL_MSG_CONFIG

    public static var packetMessageType: UInt16 { UInt16(subsystem) << 8 | UInt16(packetType) }
    public static var verdictMessageType: UInt16 { UInt16(subsystem) << 8 | UInt16(verdictType) }
    public static var configMessageType: UInt16 { UInt16(subsystem) << 8 | UInt16(configType) }

    /// NFQNL_CFG_CMD_*.
    public enum Command: UInt8, Sendable {
        case bind = 1, unbind = 2
    }

    /// NFQNL_COPY_*.
    public enum CopyMode: UInt8, Sendable {
        case none = 0, meta = 1, packet = 2
    }

    /// NFQA_CFG_F_* bits of NFQA_CFG_FLAGS.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Accept (instead of drop) what the queue cannot take: queue full or reader's socket full.
        public static let failOpen = Flags(rawValue: 1 << 0)
        public static let conntrack = Flags(rawValue: 1 << 1)
        /// Hand over GSO packets unsegmented and without computing checksums. Not wanted here:
        /// a re-injected copy must carry a valid checksum.
        public static let gso = Flags(rawValue: 1 << 2)
    }

    enum PacketAttribute: UInt16 {
        case packetHeader = 1, verdictHeader = 2, mark = 3, timestamp = 4
        case inputInterface = 5, outputInterface = 6
        case payload = 10, captureLength = 13, skbInfo = 14
    }

    enum ConfigAttribute: UInt16 {
        case command = 1, parameters = 2, queueMaximumLength = 3, mask = 4, flags = 5
    }

    /// The verdicts a reader gives (NF_DROP, NF_ACCEPT). NF_REPEAT is left out on purpose: it
    /// would run the fault table again and queue the segment a second time.
    public enum Verdict: UInt32, Sendable {
        case drop = 0, accept = 1
    }

    static func config(queue: UInt16, sequence: UInt32, attributes: [[UInt8]]) -> [UInt8] {
        NfnetlinkRequest.encode(type: configMessageType, resource: queue, sequence: sequence, attributes: attributes)
    }

    /// NFQA_CFG_CMD: struct nfqnl_msg_config_cmd { __u8 command; __u8 _pad; __be16 pf; } (pf unused since 3.8).
    public static func command(_ command: Command, queue: UInt16, sequence: UInt32) -> [UInt8] {
        config(queue: queue, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.command.rawValue, payload: [command.rawValue, 0, 0, 0])
        ])
    }

    /// NFQA_CFG_PARAMS: struct nfqnl_msg_config_params { __be32 copy_range; __u8 copy_mode; } (packed, 5 bytes).
    public static func parameters(_ mode: CopyMode, range: UInt32, queue: UInt16, sequence: UInt32) -> [UInt8] {
        var payload: [UInt8] = []
        payload.appendNetworkOrder(range)
        payload.append(mode.rawValue)
        return config(queue: queue, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.parameters.rawValue, payload: payload)
        ])
    }

    /// NFQA_CFG_QUEUE_MAXLEN (big-endian): how many packets may wait for a verdict at once.
    public static func maximumLength(_ packets: UInt32, queue: UInt16, sequence: UInt32) -> [UInt8] {
        config(queue: queue, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.queueMaximumLength.rawValue, networkOrder: packets)
        ])
    }

    /// NFQA_CFG_MASK + NFQA_CFG_FLAGS (both big-endian): set exactly the bits in `mask` to `flags`.
    public static func flags(_ flags: Flags, mask: Flags, queue: UInt16, sequence: UInt32) -> [UInt8] {
        config(queue: queue, sequence: sequence, attributes: [
            NetlinkWireAttribute.encode(type: ConfigAttribute.mask.rawValue, networkOrder: mask.rawValue),
            NetlinkWireAttribute.encode(type: ConfigAttribute.flags.rawValue, networkOrder: flags.rawValue),
        ])
    }

    /// NFQNL_MSG_VERDICT for one packet: NFQA_VERDICT_HDR { __be32 verdict; __be32 id; } and,
    /// when given, NFQA_MARK (big-endian) to rewrite the packet's mark. No ACK is asked for:
    /// the kernel only answers errors, which the reader counts.
    public static func verdict(_ verdict: Verdict, packetID: UInt32, mark: UInt32?, queue: UInt16, sequence: UInt32) -> [UInt8] {
        var header: [UInt8] = []
        header.appendNetworkOrder(verdict.rawValue)
        header.appendNetworkOrder(packetID)
        var attributes = [NetlinkWireAttribute.encode(type: PacketAttribute.verdictHeader.rawValue, payload: header)]
        if let mark {
            attributes.append(NetlinkWireAttribute.encode(type: PacketAttribute.mark.rawValue, networkOrder: mark))
        }
        return NfnetlinkRequest.encode(type: verdictMessageType, flags: NfnetlinkRequest.unacknowledgedFlags, resource: queue,
                                       sequence: sequence, attributes: attributes)
    }

    static let metadataNumbering = NfnetlinkPacketMetadata.Numbering(
        "NFQA", mark: PacketAttribute.mark.rawValue, timestamp: PacketAttribute.timestamp.rawValue,
        inputInterface: PacketAttribute.inputInterface.rawValue, outputInterface: PacketAttribute.outputInterface.rawValue)

    /// Parses an NFQNL_MSG_PACKET payload: nfgenmsg, then attributes.
    public static func packet(payload: ArraySlice<UInt8>) throws(WireFormatError) -> NFQueuePacket {
        let (family, queue, attributes) = try nfgenmsg(payload)
        var packet = NFQueuePacket(queue: queue, family: family, id: 0, bytes: [])
        var metadata = NfnetlinkPacketMetadata()
        var sawHeader = false
        for attribute in attributes where try !metadata.read(attribute, metadataNumbering) {
            let value = WireReader(attribute.payload)
            switch PacketAttribute(rawValue: attribute.type) {
            case .packetHeader:
                // struct nfqnl_msg_packet_hdr { __be32 packet_id; __be16 hw_protocol; __u8 hook; } (packed)
                packet.id = try value.u32be(0, "nfqnl_msg_packet_hdr.packet_id")
                packet.hwProtocol = try value.u16be(4, "nfqnl_msg_packet_hdr.hw_protocol")
                packet.hook = try value.u8(6, "nfqnl_msg_packet_hdr.hook")
                sawHeader = true
            case .payload:
                packet.bytes = Array(attribute.payload)
            case .captureLength:
                packet.originalLength = Int(try value.u32be(0, "NFQA_CAP_LEN"))
            case .skbInfo:
                packet.skbInfo = try value.u32be(0, "NFQA_SKB_INFO")
            default:
                continue
            }
        }
        packet.mark = metadata.mark ?? 0
        packet.timestampMicroseconds = metadata.timestampMicroseconds
        packet.inputInterface = metadata.inputInterface
        packet.outputInterface = metadata.outputInterface
        guard sawHeader else {
            throw WireFormatError(what: "NFQA_PACKET_HDR missing", offset: 4, needed: 7, available: 0)
        }
        return packet
    }
}
