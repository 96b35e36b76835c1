import CNetfilter

/// One libnftnl table object (`struct nftnl_table`), owned.
struct LibnftnlTable: ~Copyable {
    let pointer: OpaquePointer

    init() throws(NFTablesError) {
        guard let pointer = nftnl_table_alloc() else { throw .libnftnl("nftnl_table_alloc failed") }
        self.pointer = pointer
    }

    deinit { nftnl_table_free(pointer) }

    /// The table named `name`; `owned` sets NFT_TABLE_F_OWNER so the table dies with our socket.
    static func make(name: String, family: NFTTable.Family, owned: Bool = false) throws(NFTablesError) -> LibnftnlTable {
        let object = try LibnftnlTable()
        guard nftnl_table_set_str(object.pointer, TableAttribute.name, name) >= 0 else {
            throw .libnftnl("nftnl_table_set_str(name) failed")
        }
        nftnl_table_set_u32(object.pointer, TableAttribute.family, UInt32(family.rawValue))
        if owned { nftnl_table_set_u32(object.pointer, TableAttribute.flags, UInt32(NFT_TABLE_F_OWNER.rawValue)) }
        return object
    }

    static func parsing(_ message: UnsafePointer<nlmsghdr>) throws(NFTablesError) -> LibnftnlTable {
        let object = try LibnftnlTable()
        guard nftnl_table_nlmsg_parse(message, object.pointer) >= 0 else {
            throw .malformedReply("nftnl_table_nlmsg_parse failed")
        }
        return object
    }

    func buildPayload(into message: UnsafeMutablePointer<nlmsghdr>) {
        nftnl_table_nlmsg_build_payload(message, pointer)
    }

    /// What `listTables` reports about this table.
    var info: NFTTableInfo {
        func has(_ key: UInt16) -> Bool { nftnl_table_is_set(pointer, key) }
        let name = nftnl_table_get_str(pointer, TableAttribute.name).map { String(cString: $0) } ?? ""
        return NFTTableInfo(
            name: name,
            familyRawValue: UInt8(truncatingIfNeeded: nftnl_table_get_u32(pointer, TableAttribute.family)),
            flags: has(TableAttribute.flags) ? nftnl_table_get_u32(pointer, TableAttribute.flags) : 0,
            ownerPortID: has(TableAttribute.owner) ? nftnl_table_get_u32(pointer, TableAttribute.owner) : nil,
            handle: has(TableAttribute.handle) ? nftnl_table_get_u64(pointer, TableAttribute.handle) : 0
        )
    }
}

/// A table as the kernel lists it.
public struct NFTTableInfo: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    /// NFPROTO_* (1 inet, 2 ip, 3 arp, 5 netdev, 7 bridge, 10 ip6).
    public var familyRawValue: UInt8
    /// NFT_TABLE_F_* (0x1 dormant, 0x2 owner, 0x4 persist).
    public var flags: UInt32
    /// The netlink port id of the owning socket, when the kernel sends NFTA_TABLE_OWNER.
    public var ownerPortID: UInt32?
    public var handle: UInt64

    public init(name: String, familyRawValue: UInt8, flags: UInt32, ownerPortID: UInt32?, handle: UInt64) {
        self.name = name
        self.familyRawValue = familyRawValue
        self.flags = flags
        self.ownerPortID = ownerPortID
        self.handle = handle
    }

    /// nil for families the IR does not model (arp, bridge, netdev).
    public var family: NFTTable.Family? { NFTTable.Family(rawValue: familyRawValue) }
    public var isOwned: Bool { flags & UInt32(NFT_TABLE_F_OWNER.rawValue) != 0 }

    public var description: String {
        let familyName = family.map { "\($0)" } ?? "family \(familyRawValue)"
        let owner = ownerPortID.map { " owner \($0)" } ?? (isOwned ? " owned" : "")
        return "table \(familyName) \(name) handle \(handle) flags 0x\(String(flags, radix: 16))\(owner)"
    }
}
