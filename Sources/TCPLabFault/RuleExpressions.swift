import TCPLabRules

/// The small vocabulary the linearizer builds rules from: each value is the expression list
/// nft itself emits for the same match (checked with `nft --debug=netlink`).
struct Match {
    var expressions: [NFTExpression]

    static func + (lhs: Match, rhs: Match) -> Match { Match(expressions: lhs.expressions + rhs.expressions) }
    static let none = Match(expressions: [])

    /// `meta l4proto tcp`
    static let tcp = Match(expressions: [.meta(key: .l4proto, destination: .r0), .cmp(op: .eq, source: .r0, data: [6])])

    /// `tcp dport PORT` / `tcp sport PORT`; ports compare in network order.
    static func tcpPort(destination: Bool, _ port: UInt16) -> Match {
        Match(expressions: [
            .payload(base: .transport, offset: destination ? 2 : 0, length: 2, destination: .r0),
            .cmp(op: .eq, source: .r0, data: [UInt8(port >> 8), UInt8(port & 0xff)]),
        ])
    }

    /// `tcp flags & (mask) == value`
    static func tcpFlags(_ mask: HeaderFlags, equal value: HeaderFlags) -> Match {
        Match(expressions: [
            .payload(base: .transport, offset: 13, length: 1, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: [mask.rawValue], xor: [0]),
            .cmp(op: .eq, source: .r0, data: [value.rawValue]),
        ])
    }

    /// A pure ACK: of SYN, ACK, RST and FIN only ACK (PSH, URG, ECE, CWR may be anything).
    static let pureACK = tcpFlags([.syn, .ack, .rst, .fin], equal: .ack)

    /// `tcp window 0` / `tcp window != 0`
    static func tcpWindowZero(_ zero: Bool) -> Match {
        Match(expressions: [
            .payload(base: .transport, offset: 14, length: 2, destination: .r0),
            .cmp(op: zero ? .eq : .neq, source: .r0, data: [0, 0]),
        ])
    }

    /// `tcp doff N`: the TCP header is N 32-bit words.
    static func tcpDataOffset(_ words: UInt8) -> Match {
        Match(expressions: [
            .payload(base: .transport, offset: 12, length: 1, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: [0xf0], xor: [0]),
            .cmp(op: .eq, source: .r0, data: [words << 4]),
        ])
    }

    /// `ip hdrlength N` (only after `meta nfproto ipv4`).
    static func ipv4HeaderLength(_ words: UInt8) -> Match {
        Match(expressions: [
            .payload(base: .network, offset: 0, length: 1, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: [0x0f], xor: [0]),
            .cmp(op: .eq, source: .r0, data: [words]),
        ])
    }

    /// `meta nfproto ipv4|ipv6`
    static func nfproto(ipv6: Bool) -> Match {
        Match(expressions: [.meta(key: .nfproto, destination: .r0), .cmp(op: .eq, source: .r0, data: [ipv6 ? 10 : 2])])
    }

    /// `meta length N`: at prerouting the whole IP packet, header included, for v4 and v6.
    static func metaLength(_ bytes: UInt32) -> Match {
        Match(expressions: [.meta(key: .length, destination: .r0), .cmp(op: .eq, source: .r0, data: bytes.hostBytes)])
    }

    /// `meta mark & bits == value`
    static func packetClass(_ bits: UInt32, equal value: UInt32) -> Match {
        Match(expressions: [
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: bits.hostBytes, xor: UInt32(0).hostBytes),
            .cmp(op: .eq, source: .r0, data: value.hostBytes),
        ])
    }
    static func packetClass(has bits: UInt32) -> Match { packetClass(bits, equal: bits) }
    static func packetClass(lacks bits: UInt32) -> Match { packetClass(bits, equal: 0) }

    /// `meta oif 1`: leaving through loopback (its ifindex is 1 in every namespace).
    static let outputToLoopback = Match(expressions: [
        .meta(key: .outputInterface, destination: .r0), .cmp(op: .eq, source: .r0, data: UInt32(1).hostBytes),
    ])

    /// The connection's state bits under `bits` equal `value` (kept in the table's own sets, see ConnectionStateSets).
    static func connectionState(_ bits: UInt32, equal value: UInt32, key: ConnectionStateSets.Key = .connection) -> Match {
        Match(expressions: ConnectionStateSets.test(bits, equal: value, key: key))
    }

    /// `ct direction original|reply`
    static func ctDirection(reply: Bool) -> Match {
        Match(expressions: [.ct(key: .direction, destination: .r0), .cmp(op: .eq, source: .r0, data: [reply ? 1 : 0])])
    }

    /// `ct id != @set`: the connection did not refresh the set within its timeout.
    static func ctIDAbsent(from set: String) -> Match {
        Match(expressions: [.ct(key: .id, destination: .r0), .lookup(set: set, source: .r0, invert: true)])
    }

    /// `numgen random mod 1000000 < threshold` (lt compares bytes, hence the byteorder).
    static func random(below threshold: UInt32, modulus: UInt32) -> Match {
        Match(expressions: [
            .numgenRandom(modulus: modulus, destination: .r0),
            .byteorder(source: .r0, destination: .r0, op: .hton, length: 4, size: 4),
            .cmp(op: .lt, source: .r0, data: threshold.networkBytes),
        ])
    }
}

/// Statements: writes, counters, logs.
enum Action {
    /// `meta mark set meta mark & ~(clear|set) | set`
    static func setPacketClass(clear: UInt32 = 0, set: UInt32) -> [NFTExpression] {
        [
            .meta(key: .mark, destination: .r0),
            .bitwise(source: .r0, destination: .r0, mask: (~(clear | set)).hostBytes, xor: set.hostBytes),
            .metaSet(key: .mark, source: .r0),
        ]
    }

    /// state = state & ~(clear|set) | set, in the table's own sets (see ConnectionStateSets).
    static func setConnectionState(clear: UInt32 = 0, set: UInt32, key: ConnectionStateSets.Key = .connection) -> [NFTExpression] {
        ConnectionStateSets.write(clear: clear, set: set, key: key)
    }

    /// `log group N prefix "..."`, with the kernel's clock in the logged mark. NFLOG puts its own
    /// timestamp on a packet only at prerouting, input and forward, so a host's own segments
    /// logged at output would come without one. The rule therefore saves the mark, puts the low
    /// 32 bits of `meta time` (ns since the epoch, read as the rule runs) there for the log to
    /// carry as NFULA_MARK, and restores it: `KernelClockStamp` turns it back into a time.
    /// No queue threshold of its own: the reader sets the group's (immediate, or batched under load).
    static func stampedLog(group: UInt16, prefix: String) -> [NFTExpression] {
        [
            .meta(key: .mark, destination: .r4),
            .meta(key: .timeNanoseconds, destination: .r2),
            .metaSet(key: .mark, source: .r2),
            .log(group: group, prefix: prefix, queueThreshold: 0),
            .metaSet(key: .mark, source: .r4),
        ]
    }

    /// `update @set { ct id }`
    static func refresh(set: String, timeoutMilliseconds: UInt64) -> [NFTExpression] {
        [.ct(key: .id, destination: .r0), .dynset(set: set, op: .update, keySource: .r0, timeoutMilliseconds: timeoutMilliseconds)]
    }
}

extension UInt32 {
    /// Little-endian on every machine TCPLab runs on; marks and lengths compare in host order.
    var hostBytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }
    var networkBytes: [UInt8] { withUnsafeBytes(of: bigEndian) { Array($0) } }
}
