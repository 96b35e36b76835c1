import CNetfilter

/// One libnftnl rule object (`struct nftnl_rule`), owned; it owns the expressions added to it.
struct LibnftnlRule: ~Copyable {
    let pointer: OpaquePointer

    init() throws(NFTablesError) {
        guard let pointer = nftnl_rule_alloc() else { throw .libnftnl("nftnl_rule_alloc failed") }
        self.pointer = pointer
    }

    deinit { nftnl_rule_free(pointer) }

    /// The rule for `rule` in `table`: its chain, comment and expressions in order.
    static func make(_ rule: NFTRule, table: String, family: NFTTable.Family) throws(NFTablesError) -> LibnftnlRule {
        let object = try LibnftnlRule()
        try object.configure(rule, table: table, family: family)
        return object
    }

    private func configure(_ rule: NFTRule, table: String, family: NFTTable.Family) throws(NFTablesError) {
        nftnl_rule_set_u32(pointer, RuleAttribute.family, UInt32(family.rawValue))
        try setString(RuleAttribute.table, table)
        try setString(RuleAttribute.chain, rule.chain)
        if let comment = rule.comment { try setComment(comment) }
        for expression in rule.expressions {
            add(try LibnftnlExpression.make(expression))
        }
    }

    /// Parses a NEWRULE message (a kernel dump entry or one of our own requests).
    static func parsing(_ message: UnsafePointer<nlmsghdr>) throws(NFTablesError) -> LibnftnlRule {
        let object = try LibnftnlRule()
        guard nftnl_rule_nlmsg_parse(message, object.pointer) >= 0 else {
            throw .malformedReply("nftnl_rule_nlmsg_parse failed")
        }
        return object
    }

    /// Hands the expression to the rule, which frees it with itself.
    func add(_ expression: consuming LibnftnlExpression) {
        nftnl_rule_add_expr(pointer, expression.consumed())
    }

    /// Writes the rule's attributes after a header made by `nftnl_nlmsg_build_hdr`.
    func buildPayload(into message: UnsafeMutablePointer<nlmsghdr>) {
        nftnl_rule_nlmsg_build_payload(message, pointer)
    }

    private func setString(_ key: UInt16, _ value: String) throws(NFTablesError) {
        guard nftnl_rule_set_str(pointer, key, value) >= 0 else { throw .libnftnl("nftnl_rule_set_str(\(key)) failed") }
    }

    private func string(_ key: UInt16) -> String? {
        guard nftnl_rule_is_set(pointer, key), let text = nftnl_rule_get_str(pointer, key) else { return nil }
        return String(cString: text)
    }

    var table: String? { string(RuleAttribute.table) }
    var chain: String? { string(RuleAttribute.chain) }
    var family: UInt8 { UInt8(truncatingIfNeeded: nftnl_rule_get_u32(pointer, RuleAttribute.family)) }
    var handle: UInt64? {
        nftnl_rule_is_set(pointer, RuleAttribute.handle) ? nftnl_rule_get_u64(pointer, RuleAttribute.handle) : nil
    }

    /// The IR form of the whole rule.
    func decoded() throws(NFTablesError) -> NFTRule {
        var expressions: [NFTExpression] = []
        try forEachExpression { (expression) throws(NFTablesError) in
            expressions.append(try NFTExpression(libnftnl: expression))
        }
        return NFTRule(chain: chain ?? "", expressions: expressions, comment: comment)
    }

    /// Packets and bytes of the rule's first counter expression, if it has one.
    var firstCounter: (packets: UInt64, bytes: UInt64)? {
        var found: (packets: UInt64, bytes: UInt64)?
        forEachExpression { expression in
            guard found == nil, let name = nftnl_expr_get_str(expression, ExprAttribute.name),
                  String(cString: name) == "counter" else { return }
            found = (nftnl_expr_get_u64(expression, ExprAttribute.Counter.packets),
                     nftnl_expr_get_u64(expression, ExprAttribute.Counter.bytes))
        }
        return found
    }

    private func forEachExpression<E: Error>(_ body: (OpaquePointer) throws(E) -> Void) throws(E) {
        guard let iterator = nftnl_expr_iter_create(pointer) else { return }
        defer { nftnl_expr_iter_destroy(iterator) }
        while let expression = nftnl_expr_iter_next(iterator) {
            try body(expression)
        }
    }
}

// MARK: - Comment (rule user data)

extension LibnftnlRule {
    /// The comment TLV nft writes and reads (`NFTNL_UDATA_RULE_COMMENT`, a NUL-terminated
    /// string), so `nft list` shows `comment "..."`.
    static let commentType = UInt8(NFTNL_UDATA_RULE_COMMENT.rawValue)
    static let maximumCommentBytes = Int(NFTNL_UDATA_COMMENT_MAXLEN) - 1

    func setComment(_ comment: String) throws(NFTablesError) {
        guard comment.utf8.count <= Self.maximumCommentBytes else {
            throw .invalidRule("comment \"\(comment)\" is longer than \(Self.maximumCommentBytes) bytes")
        }
        guard let buffer = nftnl_udata_buf_alloc(UInt32(NFTNL_UDATA_COMMENT_MAXLEN) + 8) else {
            throw .libnftnl("nftnl_udata_buf_alloc failed")
        }
        defer { nftnl_udata_buf_free(buffer) }
        guard nftnl_udata_put_strz(buffer, Self.commentType, comment) else {
            throw .libnftnl("nftnl_udata_put_strz failed for the comment")
        }
        guard nftnl_rule_set_data(pointer, RuleAttribute.userData, nftnl_udata_buf_data(buffer),
                                  nftnl_udata_buf_len(buffer)) >= 0 else {
            throw .libnftnl("nftnl_rule_set_data(USERDATA) failed")
        }
    }

    var comment: String? {
        var length: UInt32 = 0
        guard nftnl_rule_is_set(pointer, RuleAttribute.userData),
              let data = nftnl_rule_get_data(pointer, RuleAttribute.userData, &length) else { return nil }
        var found: OpaquePointer?
        // The callback captures nothing; it reports the comment TLV through `found`.
        _ = withUnsafeMutablePointer(to: &found) { slot in
            nftnl_udata_parse(data, length, { attribute, context in
                guard let attribute, let context else { return -1 }
                if nftnl_udata_type(attribute) == LibnftnlRule.commentType {
                    context.assumingMemoryBound(to: OpaquePointer?.self).pointee = attribute
                }
                return 0
            }, slot)
        }
        guard let attribute = found, let value = nftnl_udata_get(attribute) else { return nil }
        let bytes = UnsafeRawBufferPointer(start: value, count: Int(nftnl_udata_len(attribute)))
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

// MARK: - Wire form without a kernel

extension LibnftnlRule {
    /// The NFT_MSG_NEWRULE message that would carry this rule (for tests and debugging).
    func newRuleMessage(family: NFTTable.Family, sequence: UInt32 = 1) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let length = buffer.withUnsafeMutableBytes { raw in
            let header = nftnl_nlmsg_build_hdr(raw.baseAddress!.assumingMemoryBound(to: CChar.self),
                                               NFTMessageType.newRule, UInt16(family.rawValue),
                                               NetlinkFlag.create | NetlinkFlag.append | NetlinkFlag.ack, sequence)!
            buildPayload(into: header)
            return Int(header.pointee.nlmsg_len)
        }
        return Array(buffer[..<length])
    }

    /// Parses a NEWRULE message held in `bytes`.
    static func parsing(bytes: [UInt8]) throws(NFTablesError) -> LibnftnlRule {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 16), alignment: 8)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        return try parsing(UnsafePointer(copy.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)))
    }
}
