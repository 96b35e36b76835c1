extension NFTBatch {
    /// How many messages `installing` puts between batch begin and end.
    static func messageCount(installing table: NFTTable, replacingExisting: Bool) -> Int {
        var count = 1 + table.chains.count + table.rules.count
        count += table.sets.count + table.sets.filter { !$0.elements.isEmpty }.count
        if replacingExisting { count += 2 }
        return count
    }

    /// The transaction that creates `table` with everything in it: table (owner flag when
    /// owned), chains, sets and their elements, rules in order. With `replacingExisting`,
    /// "add table; delete table" come first, so an existing table of that name goes in the
    /// same transaction (the add makes sure the delete has something to delete).
    static func installing(_ table: NFTTable, replacingExisting: Bool, firstSequence: UInt32) throws(NFTablesError) -> NFTBatch {
        let family = table.family.rawValue
        let create = NetlinkFlag.create
        var batch = NFTBatch(firstSequence: firstSequence)

        let newTable = try LibnftnlTable.make(name: table.name, family: table.family, owned: table.owned)
        if replacingExisting {
            try batch.add(NFTMessageType.newTable, family: family, flags: create,
                          object: .table(family: table.family, name: table.name)) { newTable.buildPayload(into: $0) }
            let old = try LibnftnlTable.make(name: table.name, family: table.family)
            try batch.add(NFTMessageType.deleteTable, family: family, flags: 0,
                          object: .deleteTable(family: table.family, name: table.name)) { old.buildPayload(into: $0) }
        }
        try batch.add(NFTMessageType.newTable, family: family, flags: create | NetlinkFlag.exclusive,
                      object: .table(family: table.family, name: table.name)) { newTable.buildPayload(into: $0) }

        for chain in table.chains {
            let object = try LibnftnlChain.make(chain, table: table.name, family: table.family)
            try batch.add(NFTMessageType.newChain, family: family, flags: create, object: .chain(chain.name)) {
                object.buildPayload(into: $0)
            }
        }
        for (index, set) in table.sets.enumerated() {
            // libnftnl writes a set's elements into one message without bounds checks: refuse
            // before it could run past the batch buffer.
            let elementBytes = set.elements.count * (Int(set.keyLength) + 32)
            guard elementBytes < NFTBatch.limit else { throw .batchTooLarge(bytes: elementBytes) }
            let object = try LibnftnlSet.make(set, table: table.name, family: table.family, id: UInt32(index + 1))
            try batch.add(NFTMessageType.newSet, family: family, flags: create, object: .set(set.name)) {
                object.buildPayload(into: $0)
            }
            if !set.elements.isEmpty {
                try batch.add(NFTMessageType.newSetElement, family: family, flags: create,
                              object: .setElements(set: set.name)) { object.buildElementsPayload(into: $0) }
            }
        }
        for (index, rule) in table.rules.enumerated() {
            let object = try LibnftnlRule.make(rule, table: table.name, family: table.family)
            try batch.add(NFTMessageType.newRule, family: family, flags: create | NetlinkFlag.append,
                          object: .rule(index: index, chain: rule.chain, comment: rule.comment)) {
                object.buildPayload(into: $0)
            }
        }
        try batch.end()
        return batch
    }
}
