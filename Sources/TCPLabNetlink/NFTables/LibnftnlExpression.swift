import CNetfilter

#if canImport(Glibc)
import Glibc
#endif

/// One libnftnl expression object (`struct nftnl_expr`), owned: freed when the value goes
/// away unless `consumed` hands it to a rule, which then frees it.
struct LibnftnlExpression: ~Copyable {
    let pointer: OpaquePointer

    /// Allocates an empty expression of kernel type `name` ("payload", "cmp", "target" ...).
    init(kind name: String) throws(NFTablesError) {
        guard let pointer = nftnl_expr_alloc(name) else {
            throw .libnftnl("nftnl_expr_alloc(\"\(name)\") failed")
        }
        self.pointer = pointer
    }

    deinit { nftnl_expr_free(pointer) }

    /// Gives up ownership: the caller (a rule) frees the object from now on.
    consuming func consumed() -> OpaquePointer {
        let pointer = self.pointer
        discard self
        return pointer
    }

    func set(_ key: UInt16, u8 value: UInt8) { nftnl_expr_set_u8(pointer, key, value) }
    func set(_ key: UInt16, u16 value: UInt16) { nftnl_expr_set_u16(pointer, key, value) }
    func set(_ key: UInt16, u32 value: UInt32) { nftnl_expr_set_u32(pointer, key, value) }
    func set(_ key: UInt16, u64 value: UInt64) { nftnl_expr_set_u64(pointer, key, value) }
    /// A register attribute (dreg, sreg): a u32 holding the register's number.
    func set(_ key: UInt16, register: NFTRegister) { set(key, u32: register.rawValue) }

    func set(_ key: UInt16, string value: String) throws(NFTablesError) {
        guard nftnl_expr_set_str(pointer, key, value) >= 0 else {
            throw .libnftnl("nftnl_expr_set_str(\(key), \"\(value)\") failed")
        }
    }

    /// Copies `bytes` (libnftnl keeps its own copy). `nftnl_expr_set_data` is a macro for this call.
    func set(_ key: UInt16, bytes: [UInt8]) throws(NFTablesError) {
        let result = bytes.withUnsafeBytes { nftnl_expr_set(pointer, key, $0.baseAddress, UInt32($0.count)) }
        guard result >= 0 else { throw .libnftnl("nftnl_expr_set(\(key)) refused \(bytes.count) bytes") }
    }
}

extension LibnftnlExpression {
    /// Builds the libnftnl expression for one IR expression, attribute by attribute as
    /// `nft --debug=netlink` lists them.
    static func make(_ expression: NFTExpression) throws(NFTablesError) -> LibnftnlExpression {
        let object = try LibnftnlExpression(kind: expression.kernelName)
        try object.configure(for: expression)
        return object
    }

    private func configure(for expression: NFTExpression) throws(NFTablesError) {
        switch expression {
        case let .payload(base, offset, length, destination):
            set(ExprAttribute.Payload.dreg, register: destination)
            set(ExprAttribute.Payload.base, u32: base.rawValue)
            set(ExprAttribute.Payload.offset, u32: offset)
            set(ExprAttribute.Payload.length, u32: length)

        case let .meta(key, destination):
            set(ExprAttribute.Meta.key, u32: key.rawValue)
            set(ExprAttribute.Meta.dreg, register: destination)

        case let .metaSet(key, source):
            set(ExprAttribute.Meta.key, u32: key.rawValue)
            set(ExprAttribute.Meta.sreg, register: source)

        case let .ct(key, direction, destination):
            set(ExprAttribute.CT.key, u32: key.rawValue)
            set(ExprAttribute.CT.dreg, register: destination)
            if let direction { set(ExprAttribute.CT.direction, u8: direction.rawValue) }

        case let .ctSet(key, source):
            set(ExprAttribute.CT.key, u32: key.rawValue)
            set(ExprAttribute.CT.sreg, register: source)

        case let .cmp(op, source, data):
            set(ExprAttribute.Cmp.sreg, register: source)
            set(ExprAttribute.Cmp.op, u32: op.rawValue)
            try set(ExprAttribute.Cmp.data, bytes: data)

        case let .bitwise(source, destination, mask, xor):
            guard mask.count == xor.count else {
                throw .invalidExpression("bitwise mask has \(mask.count) bytes but xor has \(xor.count)")
            }
            set(ExprAttribute.Bitwise.sreg, register: source)
            set(ExprAttribute.Bitwise.dreg, register: destination)
            set(ExprAttribute.Bitwise.length, u32: UInt32(mask.count))
            try set(ExprAttribute.Bitwise.mask, bytes: mask)
            try set(ExprAttribute.Bitwise.xor, bytes: xor)

        case let .byteorder(source, destination, op, length, size):
            set(ExprAttribute.Byteorder.sreg, register: source)
            set(ExprAttribute.Byteorder.dreg, register: destination)
            set(ExprAttribute.Byteorder.op, u32: op.rawValue)
            set(ExprAttribute.Byteorder.length, u32: length)
            set(ExprAttribute.Byteorder.size, u32: size)

        case let .immediate(destination, data):
            set(ExprAttribute.Immediate.dreg, register: destination)
            try set(ExprAttribute.Immediate.data, bytes: data)

        case let .verdict(verdict):
            set(ExprAttribute.Immediate.dreg, register: .verdict)
            set(ExprAttribute.Immediate.verdict, u32: UInt32(bitPattern: VerdictCode(verdict).rawValue))
            if let chain = verdict.targetChain { try set(ExprAttribute.Immediate.chain, string: chain) }

        case .counter:
            break  // packets and bytes start at zero

        case let .log(group, prefix, queueThreshold):
            set(ExprAttribute.Log.group, u16: group)
            if !prefix.isEmpty { try set(ExprAttribute.Log.prefix, string: prefix) }
            if queueThreshold != 0 { set(ExprAttribute.Log.queueThreshold, u16: queueThreshold) }

        case .lookup, .dynset, .numgenRandom, .xtQueue, .queue:
            try configureSetOrQueue(for: expression)
        }
    }

    /// The expressions that name a set, draw a number or queue the packet.
    private func configureSetOrQueue(for expression: NFTExpression) throws(NFTablesError) {
        switch expression {
        case let .lookup(setName, source, invert):
            set(ExprAttribute.Lookup.sreg, register: source)
            try set(ExprAttribute.Lookup.set, string: setName)
            if invert { set(ExprAttribute.Lookup.flags, u32: UInt32(NFT_LOOKUP_F_INV.rawValue)) }

        case let .dynset(setName, op, keySource, timeoutMilliseconds):
            set(ExprAttribute.Dynset.keySreg, register: keySource)
            set(ExprAttribute.Dynset.op, u32: op.rawValue)
            try set(ExprAttribute.Dynset.setName, string: setName)
            // The kernel refuses a timeout attribute on a set without NFT_SET_TIMEOUT (EOPNOTSUPP),
            // so "no timeout" is the attribute's absence, not a zero.
            if timeoutMilliseconds != 0 { set(ExprAttribute.Dynset.timeout, u64: timeoutMilliseconds) }

        case let .numgenRandom(modulus, destination):
            set(ExprAttribute.Numgen.dreg, register: destination)
            set(ExprAttribute.Numgen.modulus, u32: modulus)
            set(ExprAttribute.Numgen.type, u32: UInt32(NFT_NG_RANDOM.rawValue))
            set(ExprAttribute.Numgen.offset, u32: 0)

        case let .xtQueue(number, bypass):
            try set(ExprAttribute.Target.name, string: XTQueueInfo.targetName)
            set(ExprAttribute.Target.revision, u32: XTQueueInfo.revision)
            // libnftnl stores the pointer as is and free()s it with the expression: it must come
            // from malloc, not from Swift's allocator.
            let info = XTQueueInfo(queueNumber: number, queuesTotal: 1, bypass: bypass).mallocCopy()
            guard nftnl_expr_set(pointer, ExprAttribute.Target.info, info, UInt32(XTQueueInfo.size)) >= 0 else {
                free(info)
                throw .libnftnl("nftnl_expr_set(target info) failed")
            }

        case let .queue(number, bypass):
            set(ExprAttribute.Queue.number, u16: number)
            set(ExprAttribute.Queue.total, u16: 1)
            if bypass { set(ExprAttribute.Queue.flags, u16: UInt16(NFT_QUEUE_FLAG_BYPASS)) }
        default:
            preconditionFailure("configure(for:) handles \(expression.kernelName)")
        }
    }
}

extension NFTExpression {
    /// The kernel's name for the expression type (`nftnl_expr_alloc`'s argument).
    var kernelName: String {
        switch self {
        case .payload: "payload"
        case .meta, .metaSet: "meta"
        case .ct, .ctSet: "ct"
        case .cmp: "cmp"
        case .bitwise: "bitwise"
        case .byteorder: "byteorder"
        case .immediate, .verdict: "immediate"
        case .counter: "counter"
        case .log: "log"
        case .lookup: "lookup"
        case .dynset: "dynset"
        case .numgenRandom: "numgen"
        case .xtQueue: "target"
        case .queue: "queue"
        }
    }
}

/// The verdict codes the kernel stores in the verdict register (NF_DROP, NF_ACCEPT, `enum nft_verdicts`).
struct VerdictCode: RawRepresentable, Equatable {
    var rawValue: Int32
    static let drop = VerdictCode(rawValue: 0)      // NF_DROP
    static let accept = VerdictCode(rawValue: 1)    // NF_ACCEPT
    static let `continue` = VerdictCode(rawValue: -1)
    static let jump = VerdictCode(rawValue: -3)
    static let goto = VerdictCode(rawValue: -4)
    static let `return` = VerdictCode(rawValue: -5)

    init(rawValue: Int32) { self.rawValue = rawValue }

    init(_ verdict: NFTVerdict) {
        switch verdict {
        case .accept: self = .accept
        case .drop: self = .drop
        case .continue: self = .continue
        case .return: self = .return
        case .jump: self = .jump
        case .goto: self = .goto
        }
    }
}

extension NFTVerdict {
    /// The chain a jump or goto names.
    var targetChain: String? {
        switch self {
        case .jump(let chain), .goto(let chain): chain
        default: nil
        }
    }
}
