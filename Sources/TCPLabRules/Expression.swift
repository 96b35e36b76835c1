/// A model of the nf_tables expressions TCPLab uses: what libnftnl builds and `nft --debug=netlink`
/// prints, one case per kernel expression type. Values are raw bytes in the order the kernel
/// compares them (ports and other header fields in network order, marks in host order).
public enum NFTExpression: Hashable, Sendable {
    /// Load `length` bytes at `offset` from a header into `destination`.
    case payload(base: PayloadBase, offset: UInt32, length: UInt32, destination: NFTRegister)
    /// Load packet metadata (`meta l4proto`, `meta length`, `meta mark`, `meta nfproto` ...).
    case meta(key: MetaKey, destination: NFTRegister)
    /// Store a register into packet metadata (`meta mark set ...`).
    case metaSet(key: MetaKey, source: NFTRegister)
    /// Load conntrack data; `direction` only for the per-direction keys.
    case ct(key: CTKey, direction: CTDirection? = nil, destination: NFTRegister)
    /// Store a register into conntrack (`ct mark set ...`).
    case ctSet(key: CTKey, source: NFTRegister)
    /// Compare a register with constant bytes; a false comparison ends the rule (NFT_BREAK).
    case cmp(op: CmpOp, source: NFTRegister, data: [UInt8])
    /// `destination = (source & mask) ^ xor` over `mask.count` bytes.
    case bitwise(source: NFTRegister, destination: NFTRegister, mask: [UInt8], xor: [UInt8])
    /// Convert `size`-byte words between host and network order (needed before `cmp lt/gt`).
    case byteorder(source: NFTRegister, destination: NFTRegister, op: ByteorderOp, length: UInt32, size: UInt32)
    /// Put constant bytes into a data register.
    case immediate(destination: NFTRegister, data: [UInt8])
    /// Set the verdict register.
    case verdict(NFTVerdict)
    /// Count packets and bytes (read back at exit for the drop report).
    case counter
    /// Send the packet to an NFLOG group with a prefix (before the verdict, so drops show too).
    case log(group: UInt16, prefix: String, queueThreshold: UInt16)
    /// Is the key in `source...` a member of the named set?
    case lookup(set: String, source: NFTRegister, invert: Bool)
    /// Add, refresh or delete an element of a dynamic set from the packet path.
    case dynset(set: String, op: DynsetOp, keySource: NFTRegister, timeoutMilliseconds: UInt64)
    /// `numgen random mod modulus` into `destination` (4 bytes, host order).
    case numgenRandom(modulus: UInt32, destination: NFTRegister)
    /// The x_tables NFQUEUE target through nft_compat (kernels without the native `queue`).
    case xtQueue(number: UInt16, bypass: Bool)
    /// The native nft `queue` statement.
    case queue(number: UInt16, bypass: Bool)

    public enum PayloadBase: UInt32, Sendable {
        case link = 0, network = 1, transport = 2  // NFT_PAYLOAD_*_HEADER
    }
    public enum MetaKey: UInt32, Sendable {
        // NFT_META_*; timeNanoseconds is the wall clock (ktime_get_real_ns) when the rule runs, 8 bytes.
        case length = 0, nfproto = 15, l4proto = 16, mark = 3, outputInterface = 5, timeNanoseconds = 30
    }
    public enum CTKey: UInt32, Sendable {
        // NFT_CT_*; ID is 23 (22 is NFT_CT_DST_IP6, which the kernel refuses without a direction).
        case state = 0, direction = 1, status = 2, mark = 3, id = 23
    }
    public enum CTDirection: UInt8, Sendable { case original = 0, reply = 1 }
    public enum CmpOp: UInt32, Sendable {
        case eq = 0, neq = 1, lt = 2, lte = 3, gt = 4, gte = 5  // NFT_CMP_*
    }
    public enum ByteorderOp: UInt32, Sendable { case ntoh = 0, hton = 1 }
    public enum DynsetOp: UInt32, Sendable { case add = 0, update = 1, delete = 2 }  // NFT_DYNSET_OP_*
}

/// nf_tables registers: the verdict register and the 4-byte data registers (NFT_REG32_00 = 8).
public struct NFTRegister: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let verdict = NFTRegister(rawValue: 0)
    /// The n-th 32-bit register, n in 0..<16.
    public static func r32(_ n: UInt32) -> NFTRegister { NFTRegister(rawValue: 8 + n) }
    public static let r0 = r32(0)
    public static let r1 = r32(1)
    /// Scratch registers for values a rule keeps while it does something else (see `Action.stampedLog`).
    public static let r2 = r32(2)
    public static let r4 = r32(4)
}

public enum NFTVerdict: Hashable, Sendable {
    case accept, drop, `continue`, `return`
    case jump(String), goto(String)
}
