import TCPLabSystem
/// The sock_diag wire format for TCP (linux/inet_diag.h): the dump request and the parser of
/// its answers. Pure functions on bytes.
///
/// Byte order: ports and addresses are network order, everything else (states, expires,
/// queues, inode) host order.
public enum SockDiagMessage {
    public static let sockDiagByFamily: UInt16 = 20  // SOCK_DIAG_BY_FAMILY
    static let dumpFlags: UInt16 = 0x1 | 0x300       // NLM_F_REQUEST | NLM_F_DUMP
    static let ipprotoTCP: UInt8 = 6
    /// sizeof(struct inet_diag_req_v2) and sizeof(struct inet_diag_msg).
    public static let requestLength = 56
    public static let messageLength = 72

    public static let allStates: UInt32 = 0xFFFF_FFFF

    /// An inet_diag_req_v2 dump of every TCP socket of `family` (AF_INET 2, AF_INET6 10)
    /// whose state bit is set in `states` (bit n = state n).
    public static func dumpRequest(family: UInt8, states: UInt32 = allStates, sequence: UInt32) -> [UInt8] {
        var payload: [UInt8] = [family, ipprotoTCP, 0, 0]  // sdiag_family, sdiag_protocol, idiag_ext, pad
        payload.appendHostOrder(states)                    // idiag_states
        payload += [UInt8](repeating: 0, count: 48)        // struct inet_diag_sockid: match everything
        return NetlinkWireMessage.encode(type: sockDiagByFamily, flags: dumpFlags, sequence: sequence, payload: payload)
    }

    /// One item of a dump answer.
    public enum Item: Sendable, Equatable {
        case socket(TCPSocketDiagnostic)
        case done
        case error(Int32)
        case other(type: UInt16)
    }

    public static func parse(datagram: [UInt8]) throws(WireFormatError) -> [Item] {
        var items: [Item] = []
        for message in try NetlinkWireMessage.split(datagram) {
            switch message.type {
            case NetlinkWireMessage.typeDone: items.append(.done)
            case NetlinkWireMessage.typeError: items.append(.error(try message.errorCode() ?? 0))
            case sockDiagByFamily: items.append(.socket(try socket(payload: message.payload)))
            default: items.append(.other(type: message.type))
            }
        }
        return items
    }

    /// Parses a struct inet_diag_msg (attributes after it are ignored).
    public static func socket(payload: ArraySlice<UInt8>) throws(WireFormatError) -> TCPSocketDiagnostic {
        let reader = WireReader(payload)
        try reader.require(0, messageLength, "inet_diag_msg")
        let family = try reader.u8(0)
        let addressLength = family == 10 ? 16 : 4  // AF_INET6 : AF_INET
        func endpoint(port: Int, address: Int) throws(WireFormatError) -> InetEndpoint {
            InetEndpoint(
                address: InetAddress(bytes: try reader.slice(address, addressLength))!,
                port: try reader.u16be(port, "inet_diag_sockid port")
            )
        }
        let cookieLow = UInt64(try reader.u32(44))
        let cookieHigh = UInt64(try reader.u32(48))
        return TCPSocketDiagnostic(
            state: TCPState(rawValue: try reader.u8(1)),
            timer: SocketTimer(rawValue: try reader.u8(2)),
            expiresMilliseconds: try reader.u32(52, "idiag_expires"),
            retransmits: try reader.u8(3),
            local: try endpoint(port: 4, address: 8),
            remote: try endpoint(port: 6, address: 24),
            inode: try reader.u32(68, "idiag_inode"),
            cookie: cookieHigh << 32 | cookieLow,
            receiveQueue: try reader.u32(56),
            sendQueue: try reader.u32(60),
            uid: try reader.u32(64)
        )
    }
}
