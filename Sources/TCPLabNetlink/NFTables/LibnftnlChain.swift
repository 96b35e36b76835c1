import CNetfilter

/// One libnftnl chain object (`struct nftnl_chain`), owned.
struct LibnftnlChain: ~Copyable {
    let pointer: OpaquePointer

    private init() throws(NFTablesError) {
        guard let pointer = nftnl_chain_alloc() else { throw .libnftnl("nftnl_chain_alloc failed") }
        self.pointer = pointer
    }

    deinit { nftnl_chain_free(pointer) }

    /// A base chain (type filter, policy accept) when `chain.hook` is set, else a regular chain.
    static func make(_ chain: NFTChain, table: String, family: NFTTable.Family) throws(NFTablesError) -> LibnftnlChain {
        let object = try LibnftnlChain()
        let pointer = object.pointer
        nftnl_chain_set_u32(pointer, ChainAttribute.family, UInt32(family.rawValue))
        guard nftnl_chain_set_str(pointer, ChainAttribute.table, table) >= 0,
              nftnl_chain_set_str(pointer, ChainAttribute.name, chain.name) >= 0 else {
            throw .libnftnl("nftnl_chain_set_str failed")
        }
        if let hook = chain.hook {
            nftnl_chain_set_u32(pointer, ChainAttribute.hook, hook.rawValue)
            nftnl_chain_set_s32(pointer, ChainAttribute.priority, chain.priority)
            nftnl_chain_set_u32(pointer, ChainAttribute.policy, UInt32(NF_ACCEPT))
            guard nftnl_chain_set_str(pointer, ChainAttribute.type, "filter") >= 0 else {
                throw .libnftnl("nftnl_chain_set_str(type) failed")
            }
        }
        return object
    }

    func buildPayload(into message: UnsafeMutablePointer<nlmsghdr>) {
        nftnl_chain_nlmsg_build_payload(message, pointer)
    }
}
