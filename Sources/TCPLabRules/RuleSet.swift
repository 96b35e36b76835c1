/// One nftables table with everything in it: what faultproxy sends to the kernel in one batch.
public struct NFTTable: Hashable, Sendable {
    public enum Family: UInt8, Sendable { case inet = 1, ipv4 = 2, ipv6 = 10 }

    public var family: Family
    public var name: String
    /// NFT_TABLE_F_OWNER: the kernel deletes the table when the netlink socket that made it closes.
    public var owned: Bool
    public var chains: [NFTChain]
    public var sets: [NFTSet]
    public var rules: [NFTRule]

    public init(family: Family = .inet, name: String, owned: Bool, chains: [NFTChain] = [], sets: [NFTSet] = [], rules: [NFTRule] = []) {
        self.family = family
        self.name = name
        self.owned = owned
        self.chains = chains
        self.sets = sets
        self.rules = rules
    }
}

public struct NFTChain: Hashable, Sendable {
    public enum Hook: UInt32, Sendable {
        case prerouting = 0, input = 1, forward = 2, output = 3, postrouting = 4  // NF_INET_*
    }
    public var name: String
    /// nil for a regular chain reached by jump.
    public var hook: Hook?
    public var priority: Int32
    public init(name: String, hook: Hook?, priority: Int32 = 0) {
        self.name = name
        self.hook = hook
        self.priority = priority
    }
}

public struct NFTSet: Hashable, Sendable {
    public var name: String
    public var keyLength: UInt32
    /// Dynamic sets take elements from the packet path (`dynset`); with a timeout they expire.
    public var dynamic: Bool
    public var timeoutMilliseconds: UInt64?
    /// The most elements a dynamic set holds (nil: 65535, as nft gives one).
    public var size: UInt32?
    public var elements: [[UInt8]]
    public init(name: String, keyLength: UInt32, dynamic: Bool, timeoutMilliseconds: UInt64? = nil, size: UInt32? = nil, elements: [[UInt8]] = []) {
        self.name = name
        self.keyLength = keyLength
        self.dynamic = dynamic
        self.timeoutMilliseconds = timeoutMilliseconds
        self.size = size
        self.elements = elements
    }
}

public struct NFTRule: Hashable, Sendable {
    public var chain: String
    public var expressions: [NFTExpression]
    /// Stored as the rule's user data (nft shows it as `comment`); faultproxy keys its counters on it.
    public var comment: String?
    public init(chain: String, expressions: [NFTExpression], comment: String? = nil) {
        self.chain = chain
        self.expressions = expressions
        self.comment = comment
    }
}
