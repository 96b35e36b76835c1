import SystemPackage

/// Turns the kernel's errno for one object of a batch into the error a user reads, adding
/// what the errno most likely means for that kind of object.
struct NFTablesErrorExplainer {
    /// The table being installed, to tell a missing chain or set from a missing expression.
    var table: NFTTable?

    func error(for object: NFTObject, errno: Errno) -> NFTablesError {
        switch (object, errno) {
        case (.batch, .notPermitted):
            return .needsCapNetAdmin(call: "nftables batch")
        case (.batch, .notSupported), (.batch, .protocolNotSupported):
            return .kernelLacksNFTables(errno: errno, detail: "nfnetlink has no nf_tables subsystem")
        case (.table, .addressFamilyNotSupported), (.table, .protocolNotSupported):
            return .kernelLacksNFTables(errno: errno, detail: "\(object)")
        case (.chain(let name), .noSuchFileOrDirectory) where isBaseChain(name):
            // The "filter" chain type is registered per family; ENOENT means this family has none.
            return .kernelLacksNFTables(errno: errno, detail: "\(object): no filter chain type for this family")
        default:
            return .refused(object, errno: errno, hint: hint(for: object, errno: errno))
        }
    }

    private func isBaseChain(_ name: String) -> Bool {
        table?.chains.first { $0.name == name }?.hook != nil
    }

    private func hint(for object: NFTObject, errno: Errno) -> String? {
        switch (object, errno) {
        case (.table, .notPermitted), (.deleteTable, .notPermitted):
            return "the table is owned by another netlink socket (another process's owned table)"
        case (.table, .fileExists):
            return "a table of that name exists: delete it or install with replacingExisting: true"
        case (.table, .notSupported):
            return "cannot turn an existing table into an owned one"
        case (.deleteTable, .noSuchFileOrDirectory):
            return "no such table"
        case (.rule(let index, let chain, _), .noSuchFileOrDirectory):
            return missingReference(ruleIndex: index, chain: chain)
        case (.rule(let index, _, _), .notSupported):
            guard let rule = rule(at: index) else { return nil }
            for expression in rule.expressions {
                if case let .dynset(setName, _, _, timeout) = expression, timeout != 0,
                   let set = table?.sets.first(where: { $0.name == setName }), set.timeoutMilliseconds == nil {
                    return "dynset with a timeout needs set \(setName) to have a timeout"
                }
            }
            return nil
        default:
            return nil
        }
    }

    private func rule(at index: Int) -> NFTRule? {
        guard let rules = table?.rules, rules.indices.contains(index) else { return nil }
        return rules[index]
    }

    /// ENOENT on a rule: a chain or set it names does not exist, or the kernel lacks one of
    /// its expression types (the native `queue` on kernels built without it).
    private func missingReference(ruleIndex: Int, chain: String) -> String? {
        guard let table, let rule = rule(at: ruleIndex) else { return nil }
        let chains = Set(table.chains.map(\.name))
        let sets = Set(table.sets.map(\.name))
        if !chains.contains(chain) { return "chain \(chain) is not in table \(table.name)" }
        for expression in rule.expressions {
            switch expression {
            case .verdict(.jump(let target)), .verdict(.goto(let target)):
                if !chains.contains(target) { return "chain \(target) is not in table \(table.name)" }
            case .lookup(let set, _, _), .dynset(let set, _, _, _):
                if !sets.contains(set) { return "set \(set) is not in table \(table.name)" }
            default:
                continue
            }
        }
        if rule.expressions.contains(where: { if case .queue = $0 { true } else { false } }) {
            return "this kernel lacks the native queue expression (use xtQueue, the x_tables NFQUEUE target)"
        }
        return "the kernel lacks one of the rule's expression types"
    }
}
