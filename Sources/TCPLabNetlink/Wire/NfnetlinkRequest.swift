/// A request to an nfnetlink subsystem (nfnetlink_log, nfnetlink_queue): the netlink header,
/// `struct nfgenmsg` (family, NFNETLINK_V0, res_id = group or queue number, big-endian), then
/// the attributes.
enum NfnetlinkRequest {
    /// NLM_F_REQUEST | NLM_F_ACK: configuration requests are answered with an ACK or an errno.
    static let acknowledgedFlags: UInt16 = 0x1 | 0x4
    /// NLM_F_REQUEST alone: the kernel answers only errors (verdicts).
    static let unacknowledgedFlags: UInt16 = 0x1

    static func encode(type: UInt16, flags: UInt16 = acknowledgedFlags, family: UInt8 = 0, resource: UInt16,
                       sequence: UInt32, attributes: [[UInt8]]) -> [UInt8] {
        var payload: [UInt8] = [family, 0]  // NFNETLINK_V0
        payload.appendNetworkOrder(resource)
        return NetlinkWireMessage.encode(type: type, flags: flags, sequence: sequence, payload: payload + attributes.flatMap { $0 })
    }
}

extension NetlinkWireAttribute {
    /// One attribute holding a big-endian integer (nfnetlink's config values, marks).
    static func encode<T: FixedWidthInteger>(type: UInt16, networkOrder value: T) -> [UInt8] {
        var payload: [UInt8] = []
        payload.appendNetworkOrder(value)
        return encode(type: type, payload: payload)
    }
}
