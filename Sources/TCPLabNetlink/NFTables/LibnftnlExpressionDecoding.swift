import CNetfilter

extension NFTExpression {
    /// Reads an IR expression back from a libnftnl expression object that someone else owns
    /// (a rule parsed from a netlink message). Throws for expression kinds the IR has no case for.
    init(libnftnl expression: OpaquePointer) throws(NFTablesError) {
        let reader = ExpressionReader(pointer: expression)
        let kind = reader.string(ExprAttribute.name) ?? ""
        switch kind {
        case "payload":
            guard let base = PayloadBase(rawValue: reader.u32(ExprAttribute.Payload.base)) else {
                throw .unsupportedExpression("payload base \(reader.u32(ExprAttribute.Payload.base))")
            }
            self = .payload(base: base, offset: reader.u32(ExprAttribute.Payload.offset),
                            length: reader.u32(ExprAttribute.Payload.length),
                            destination: reader.register(ExprAttribute.Payload.dreg))

        case "meta":
            let rawKey = reader.u32(ExprAttribute.Meta.key)
            guard let key = MetaKey(rawValue: rawKey) else { throw .unsupportedExpression("meta key \(rawKey)") }
            if reader.has(ExprAttribute.Meta.sreg) {
                self = .metaSet(key: key, source: reader.register(ExprAttribute.Meta.sreg))
            } else {
                self = .meta(key: key, destination: reader.register(ExprAttribute.Meta.dreg))
            }

        case "ct":
            let rawKey = reader.u32(ExprAttribute.CT.key)
            guard let key = CTKey(rawValue: rawKey) else { throw .unsupportedExpression("ct key \(rawKey)") }
            if reader.has(ExprAttribute.CT.sreg) {
                self = .ctSet(key: key, source: reader.register(ExprAttribute.CT.sreg))
            } else {
                let direction = reader.has(ExprAttribute.CT.direction)
                    ? CTDirection(rawValue: reader.u8(ExprAttribute.CT.direction)) : nil
                self = .ct(key: key, direction: direction, destination: reader.register(ExprAttribute.CT.dreg))
            }

        case "cmp":
            let rawOp = reader.u32(ExprAttribute.Cmp.op)
            guard let op = CmpOp(rawValue: rawOp) else { throw .unsupportedExpression("cmp op \(rawOp)") }
            self = .cmp(op: op, source: reader.register(ExprAttribute.Cmp.sreg), data: reader.bytes(ExprAttribute.Cmp.data))

        case "bitwise":
            self = .bitwise(source: reader.register(ExprAttribute.Bitwise.sreg),
                            destination: reader.register(ExprAttribute.Bitwise.dreg),
                            mask: reader.bytes(ExprAttribute.Bitwise.mask),
                            xor: reader.bytes(ExprAttribute.Bitwise.xor))

        case "byteorder":
            let rawOp = reader.u32(ExprAttribute.Byteorder.op)
            guard let op = ByteorderOp(rawValue: rawOp) else { throw .unsupportedExpression("byteorder op \(rawOp)") }
            self = .byteorder(source: reader.register(ExprAttribute.Byteorder.sreg),
                              destination: reader.register(ExprAttribute.Byteorder.dreg),
                              op: op, length: reader.u32(ExprAttribute.Byteorder.length),
                              size: reader.u32(ExprAttribute.Byteorder.size))

        case "immediate":
            if reader.has(ExprAttribute.Immediate.verdict) {
                self = .verdict(try Self.verdict(reader))
            } else {
                self = .immediate(destination: reader.register(ExprAttribute.Immediate.dreg),
                                  data: reader.bytes(ExprAttribute.Immediate.data))
            }

        case "counter":
            self = .counter

        case "log":
            self = .log(group: reader.u16(ExprAttribute.Log.group),
                        prefix: reader.string(ExprAttribute.Log.prefix) ?? "",
                        queueThreshold: reader.u16(ExprAttribute.Log.queueThreshold))

        case "lookup", "dynset", "numgen", "target", "queue":
            self = try Self.setOrQueue(kind, reader)

        default:
            throw .unsupportedExpression("expression \"\(kind)\"")
        }
    }

    /// The expressions that name a set, draw a number or queue the packet.
    private static func setOrQueue(_ kind: String, _ reader: ExpressionReader) throws(NFTablesError) -> NFTExpression {
        switch kind {
        case "lookup":
            let flags = reader.u32(ExprAttribute.Lookup.flags)
            return .lookup(set: reader.string(ExprAttribute.Lookup.set) ?? "",
                           source: reader.register(ExprAttribute.Lookup.sreg),
                           invert: flags & UInt32(NFT_LOOKUP_F_INV.rawValue) != 0)

        case "dynset":
            let rawOp = reader.u32(ExprAttribute.Dynset.op)
            guard let op = DynsetOp(rawValue: rawOp) else { throw .unsupportedExpression("dynset op \(rawOp)") }
            return .dynset(set: reader.string(ExprAttribute.Dynset.setName) ?? "", op: op,
                           keySource: reader.register(ExprAttribute.Dynset.keySreg),
                           timeoutMilliseconds: reader.u64(ExprAttribute.Dynset.timeout))

        case "numgen":
            let type = reader.u32(ExprAttribute.Numgen.type)
            guard type == UInt32(NFT_NG_RANDOM.rawValue), reader.u32(ExprAttribute.Numgen.offset) == 0 else {
                throw .unsupportedExpression("numgen type \(type) (only random with offset 0)")
            }
            return .numgenRandom(modulus: reader.u32(ExprAttribute.Numgen.modulus),
                                 destination: reader.register(ExprAttribute.Numgen.dreg))

        case "target":
            let name = reader.string(ExprAttribute.Target.name) ?? ""
            let revision = reader.u32(ExprAttribute.Target.revision)
            guard name == XTQueueInfo.targetName, revision == XTQueueInfo.revision,
                  let info = reader.withBytes(ExprAttribute.Target.info, { XTQueueInfo(bytes: $0) }) else {
                throw .unsupportedExpression("x_tables target \(name) revision \(revision)")
            }
            return .xtQueue(number: info.queueNumber, bypass: info.bypass)

        case "queue":
            let flags = reader.u16(ExprAttribute.Queue.flags)
            return .queue(number: reader.u16(ExprAttribute.Queue.number),
                          bypass: flags & UInt16(NFT_QUEUE_FLAG_BYPASS) != 0)

        default:
            preconditionFailure("init(libnftnl:) reads \(kind)")
        }
    }

    private static func verdict(_ reader: ExpressionReader) throws(NFTablesError) -> NFTVerdict {
        let code = VerdictCode(rawValue: Int32(bitPattern: reader.u32(ExprAttribute.Immediate.verdict)))
        let chain = reader.string(ExprAttribute.Immediate.chain) ?? ""
        switch code {
        case .accept: return .accept
        case .drop: return .drop
        case .continue: return .continue
        case .return: return .return
        case .jump: return .jump(chain)
        case .goto: return .goto(chain)
        default: throw .unsupportedExpression("verdict \(code.rawValue)")
        }
    }
}

/// Typed reads from a borrowed libnftnl expression.
private struct ExpressionReader {
    let pointer: OpaquePointer

    func has(_ key: UInt16) -> Bool { nftnl_expr_is_set(pointer, key) }
    func u8(_ key: UInt16) -> UInt8 { has(key) ? nftnl_expr_get_u8(pointer, key) : 0 }
    func u16(_ key: UInt16) -> UInt16 { has(key) ? nftnl_expr_get_u16(pointer, key) : 0 }
    func u32(_ key: UInt16) -> UInt32 { has(key) ? nftnl_expr_get_u32(pointer, key) : 0 }
    func u64(_ key: UInt16) -> UInt64 { has(key) ? nftnl_expr_get_u64(pointer, key) : 0 }

    func string(_ key: UInt16) -> String? {
        guard has(key), let text = nftnl_expr_get_str(pointer, key) else { return nil }
        return String(cString: text)
    }

    func withBytes<T>(_ key: UInt16, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        var length: UInt32 = 0
        guard has(key), let data = nftnl_expr_get(pointer, key, &length) else {
            return body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return body(UnsafeRawBufferPointer(start: data, count: Int(length)))
    }

    func bytes(_ key: UInt16) -> [UInt8] { withBytes(key) { Array($0) } }

    func register(_ key: UInt16) -> NFTRegister { NFTRegister(kernelDump: u32(key)) }
}

extension NFTRegister {
    /// The kernel dumps a 32-bit register that starts a 16-byte one under its legacy number
    /// (NFT_REG32_00 comes back as NFT_REG_1, NFT_REG32_04 as NFT_REG_2 ...): map those back.
    init(kernelDump raw: UInt32) {
        if (1...4).contains(raw) {
            self = .r32((raw - 1) * 4)
        } else {
            self.init(rawValue: raw)
        }
    }
}
