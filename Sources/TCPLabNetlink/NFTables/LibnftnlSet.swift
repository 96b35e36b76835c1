import CNetfilter

/// One libnftnl set object (`struct nftnl_set`), owned, with its elements.
struct LibnftnlSet: ~Copyable {
    let pointer: OpaquePointer

    private init() throws(NFTablesError) {
        guard let pointer = nftnl_set_alloc() else { throw .libnftnl("nftnl_set_alloc failed") }
        self.pointer = pointer
    }

    deinit { nftnl_set_free(pointer) }

    /// The set and its initial elements. `id` must be unique within the batch.
    static func make(_ set: NFTSet, table: String, family: NFTTable.Family, id: UInt32) throws(NFTablesError) -> LibnftnlSet {
        let object = try LibnftnlSet()
        let pointer = object.pointer
        guard nftnl_set_set_str(pointer, SetAttribute.table, table) >= 0,
              nftnl_set_set_str(pointer, SetAttribute.name, set.name) >= 0 else {
            throw .libnftnl("nftnl_set_set_str failed")
        }
        nftnl_set_set_u32(pointer, SetAttribute.family, UInt32(family.rawValue))
        nftnl_set_set_u32(pointer, SetAttribute.id, id)
        nftnl_set_set_u32(pointer, SetAttribute.keyLength, set.keyLength)
        nftnl_set_set_u32(pointer, SetAttribute.keyType, Self.keyType(forLength: set.keyLength))
        var flags: UInt32 = 0
        if set.dynamic {
            flags |= UInt32(NFT_SET_EVAL.rawValue)
            // nft gives dynamic sets a size; without one the kernel picks a hash with no limit.
            nftnl_set_set_u32(pointer, SetAttribute.size, set.size ?? 65535)
        }
        if let timeout = set.timeoutMilliseconds {
            flags |= UInt32(NFT_SET_TIMEOUT.rawValue)
            nftnl_set_set_u64(pointer, SetAttribute.timeout, timeout)
        }
        nftnl_set_set_u32(pointer, SetAttribute.flags, flags)

        for key in set.elements {
            guard key.count == Int(set.keyLength) else {
                throw .invalidSet("set \"\(set.name)\": element of \(key.count) bytes, key length is \(set.keyLength)")
            }
            guard let element = nftnl_set_elem_alloc() else { throw .libnftnl("nftnl_set_elem_alloc failed") }
            _ = key.withUnsafeBytes { nftnl_set_elem_set(element, SetAttribute.elementKey, $0.baseAddress, UInt32($0.count)) }
            nftnl_set_elem_add(pointer, element)  // the set owns the element from here on
        }
        return object
    }

    var hasElements: Bool {
        guard let iterator = nftnl_set_elems_iter_create(pointer) else { return false }
        defer { nftnl_set_elems_iter_destroy(iterator) }
        return nftnl_set_elems_iter_cur(iterator) != nil
    }

    func buildPayload(into message: UnsafeMutablePointer<nlmsghdr>) {
        nftnl_set_nlmsg_build_payload(message, pointer)
    }

    func buildElementsPayload(into message: UnsafeMutablePointer<nlmsghdr>) {
        nftnl_set_elems_nlmsg_build_payload(message, pointer)
    }

    /// nft's datatype ids, so `nft list` can print keys: the IR has only the length, so
    /// 2 bytes reads as a port (inet_service, 13), 4 as an IPv4 address (ipv4_addr, 7),
    /// 16 as an IPv6 address (ipv6_addr, 8), anything else as a plain integer (4).
    static func keyType(forLength length: UInt32) -> UInt32 {
        switch length {
        case 2: 13
        case 4: 7
        case 16: 8
        default: 4
        }
    }
}
