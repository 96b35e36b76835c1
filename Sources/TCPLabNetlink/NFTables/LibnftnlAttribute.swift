import CNetfilter

// libnftnl's attribute keys, converted once. The C enums arrive as `Int` (anonymous) or as
// structs with a `rawValue` (named); every libnftnl getter and setter takes a `UInt16`.

/// Expression attribute keys (`NFTNL_EXPR_*`).
enum ExprAttribute {
    static let name = UInt16(NFTNL_EXPR_NAME)

    enum Payload {
        static let dreg = UInt16(NFTNL_EXPR_PAYLOAD_DREG)
        static let base = UInt16(NFTNL_EXPR_PAYLOAD_BASE)
        static let offset = UInt16(NFTNL_EXPR_PAYLOAD_OFFSET)
        static let length = UInt16(NFTNL_EXPR_PAYLOAD_LEN)
    }
    enum Meta {
        static let key = UInt16(NFTNL_EXPR_META_KEY)
        static let dreg = UInt16(NFTNL_EXPR_META_DREG)
        static let sreg = UInt16(NFTNL_EXPR_META_SREG)
    }
    enum CT {
        static let dreg = UInt16(NFTNL_EXPR_CT_DREG)
        static let key = UInt16(NFTNL_EXPR_CT_KEY)
        static let direction = UInt16(NFTNL_EXPR_CT_DIR)
        static let sreg = UInt16(NFTNL_EXPR_CT_SREG)
    }
    enum Cmp {
        static let sreg = UInt16(NFTNL_EXPR_CMP_SREG)
        static let op = UInt16(NFTNL_EXPR_CMP_OP)
        static let data = UInt16(NFTNL_EXPR_CMP_DATA)
    }
    enum Bitwise {
        static let sreg = UInt16(NFTNL_EXPR_BITWISE_SREG)
        static let dreg = UInt16(NFTNL_EXPR_BITWISE_DREG)
        static let length = UInt16(NFTNL_EXPR_BITWISE_LEN)
        static let mask = UInt16(NFTNL_EXPR_BITWISE_MASK)
        static let xor = UInt16(NFTNL_EXPR_BITWISE_XOR)
    }
    enum Byteorder {
        static let dreg = UInt16(NFTNL_EXPR_BYTEORDER_DREG)
        static let sreg = UInt16(NFTNL_EXPR_BYTEORDER_SREG)
        static let op = UInt16(NFTNL_EXPR_BYTEORDER_OP)
        static let length = UInt16(NFTNL_EXPR_BYTEORDER_LEN)
        static let size = UInt16(NFTNL_EXPR_BYTEORDER_SIZE)
    }
    enum Immediate {
        static let dreg = UInt16(NFTNL_EXPR_IMM_DREG)
        static let data = UInt16(NFTNL_EXPR_IMM_DATA)
        static let verdict = UInt16(NFTNL_EXPR_IMM_VERDICT)
        static let chain = UInt16(NFTNL_EXPR_IMM_CHAIN)
    }
    enum Counter {
        static let packets = UInt16(NFTNL_EXPR_CTR_PACKETS)
        static let bytes = UInt16(NFTNL_EXPR_CTR_BYTES)
    }
    enum Log {
        static let prefix = UInt16(NFTNL_EXPR_LOG_PREFIX)
        static let group = UInt16(NFTNL_EXPR_LOG_GROUP)
        static let queueThreshold = UInt16(NFTNL_EXPR_LOG_QTHRESHOLD)
    }
    enum Lookup {
        static let sreg = UInt16(NFTNL_EXPR_LOOKUP_SREG)
        static let set = UInt16(NFTNL_EXPR_LOOKUP_SET)
        static let flags = UInt16(NFTNL_EXPR_LOOKUP_FLAGS)
    }
    enum Dynset {
        static let keySreg = UInt16(NFTNL_EXPR_DYNSET_SREG_KEY)
        static let op = UInt16(NFTNL_EXPR_DYNSET_OP)
        static let timeout = UInt16(NFTNL_EXPR_DYNSET_TIMEOUT)
        static let setName = UInt16(NFTNL_EXPR_DYNSET_SET_NAME)
    }
    enum Numgen {
        static let dreg = UInt16(NFTNL_EXPR_NG_DREG)
        static let modulus = UInt16(NFTNL_EXPR_NG_MODULUS)
        static let type = UInt16(NFTNL_EXPR_NG_TYPE)
        static let offset = UInt16(NFTNL_EXPR_NG_OFFSET)
    }
    enum Target {
        static let name = UInt16(NFTNL_EXPR_TG_NAME)
        static let revision = UInt16(NFTNL_EXPR_TG_REV)
        static let info = UInt16(NFTNL_EXPR_TG_INFO)
    }
    enum Queue {
        static let number = UInt16(NFTNL_EXPR_QUEUE_NUM)
        static let total = UInt16(NFTNL_EXPR_QUEUE_TOTAL)
        static let flags = UInt16(NFTNL_EXPR_QUEUE_FLAGS)
    }
}

/// Table attribute keys (`enum nftnl_table_attr`).
enum TableAttribute {
    static let name = UInt16(NFTNL_TABLE_NAME.rawValue)
    static let family = UInt16(NFTNL_TABLE_FAMILY.rawValue)
    static let flags = UInt16(NFTNL_TABLE_FLAGS.rawValue)
    static let handle = UInt16(NFTNL_TABLE_HANDLE.rawValue)
    static let owner = UInt16(NFTNL_TABLE_OWNER.rawValue)
}

/// Chain attribute keys (`enum nftnl_chain_attr`).
enum ChainAttribute {
    static let name = UInt16(NFTNL_CHAIN_NAME.rawValue)
    static let family = UInt16(NFTNL_CHAIN_FAMILY.rawValue)
    static let table = UInt16(NFTNL_CHAIN_TABLE.rawValue)
    static let hook = UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)
    static let priority = UInt16(NFTNL_CHAIN_PRIO.rawValue)
    static let policy = UInt16(NFTNL_CHAIN_POLICY.rawValue)
    static let type = UInt16(NFTNL_CHAIN_TYPE.rawValue)
}

/// Set and set-element attribute keys (`enum nftnl_set_attr`, `NFTNL_SET_ELEM_*`).
enum SetAttribute {
    static let table = UInt16(NFTNL_SET_TABLE.rawValue)
    static let name = UInt16(NFTNL_SET_NAME.rawValue)
    static let flags = UInt16(NFTNL_SET_FLAGS.rawValue)
    static let keyType = UInt16(NFTNL_SET_KEY_TYPE.rawValue)
    static let keyLength = UInt16(NFTNL_SET_KEY_LEN.rawValue)
    static let family = UInt16(NFTNL_SET_FAMILY.rawValue)
    static let id = UInt16(NFTNL_SET_ID.rawValue)
    static let timeout = UInt16(NFTNL_SET_TIMEOUT.rawValue)
    static let size = UInt16(NFTNL_SET_DESC_SIZE.rawValue)
    static let elementKey = UInt16(NFTNL_SET_ELEM_KEY)
}

/// Rule attribute keys (`enum nftnl_rule_attr`).
enum RuleAttribute {
    static let family = UInt16(NFTNL_RULE_FAMILY.rawValue)
    static let table = UInt16(NFTNL_RULE_TABLE.rawValue)
    static let chain = UInt16(NFTNL_RULE_CHAIN.rawValue)
    static let handle = UInt16(NFTNL_RULE_HANDLE.rawValue)
    static let userData = UInt16(NFTNL_RULE_USERDATA.rawValue)
}

/// nf_tables message types (`enum nf_tables_msg_types`), as `nftnl_nlmsg_build_hdr` takes them.
enum NFTMessageType {
    static let newTable = UInt16(NFT_MSG_NEWTABLE.rawValue)
    static let getTable = UInt16(NFT_MSG_GETTABLE.rawValue)
    static let deleteTable = UInt16(NFT_MSG_DELTABLE.rawValue)
    static let newChain = UInt16(NFT_MSG_NEWCHAIN.rawValue)
    static let newRule = UInt16(NFT_MSG_NEWRULE.rawValue)
    static let getRule = UInt16(NFT_MSG_GETRULE.rawValue)
    static let newSet = UInt16(NFT_MSG_NEWSET.rawValue)
    static let newSetElement = UInt16(NFT_MSG_NEWSETELEM.rawValue)
}

/// Netlink header flags (`#define`s, so they arrive as `Int32`); the control message types are
/// `NetlinkWireMessage.typeError` and friends.
enum NetlinkFlag {
    static let request = UInt16(NLM_F_REQUEST)
    static let ack = UInt16(NLM_F_ACK)
    static let create = UInt16(NLM_F_CREATE)
    static let exclusive = UInt16(NLM_F_EXCL)
    static let append = UInt16(NLM_F_APPEND)
    static let dump = UInt16(NLM_F_DUMP)
    static let dumpInterrupted = UInt16(NLM_F_DUMP_INTR)
}
