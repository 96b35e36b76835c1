import TCPLabRules

/// Turns an `NFTTable` back into nft syntax for `faultproxy --dry-run`: what a person reads, and
/// what `nft -f` loads to check the rules without faultproxy's own netlink transport.
///
/// It decompiles expression lists the way `nft list` does: a load names a register, a bitwise
/// qualifies it, and the next cmp, lookup or set statement consumes it. Sequences it does not
/// know come out as raw payload (`@th,96,8`) or hex, still loadable.
public enum NFTSyntaxRenderer {
    /// The part of a table nft syntax can say, for loading with `nft -f` on a kernel without the
    /// native queue: rules with the x_tables NFQUEUE target go (the lose chain's only acts on a
    /// host's own segments through a real interface), and each stamped log becomes a plain log
    /// (nft cannot save a register; the stamp matters only where NFLOG has no timestamp).
    public static func nftExpressible(_ table: NFTTable) -> NFTTable {
        var table = table
        let stamp: Set<NFTExpression> = [
            .meta(key: .mark, destination: .r4), .meta(key: .timeNanoseconds, destination: .r2),
            .metaSet(key: .mark, source: .r2), .metaSet(key: .mark, source: .r4),
        ]
        table.rules = table.rules.compactMap { rule in
            if rule.expressions.contains(where: { if case .xtQueue = $0 { true } else { false } }) { return nil }
            var rule = rule
            rule.expressions.removeAll { stamp.contains($0) }
            return rule
        }
        return table
    }

    public static func render(_ table: NFTTable) -> String {
        var lines: [String] = []
        let familyName = switch table.family {
        case .inet: "inet"
        case .ipv4: "ip"
        case .ipv6: "ip6"
        }
        lines.append("table \(familyName) \(table.name) {")
        if table.owned {
            lines.append("\t# owned (NFT_TABLE_F_OWNER) when faultproxy installs it: the kernel deletes it when faultproxy exits")
        }
        for set in table.sets {
            lines.append(contentsOf: render(set, in: table).map { "\t" + $0 })
        }
        for chain in table.chains {
            lines.append("\tchain \(chain.name) {")
            if let hook = chain.hook {
                lines.append("\t\ttype filter hook \(hookName(hook)) priority \(chain.priority); policy accept;")
            }
            for rule in table.rules where rule.chain == chain.name {
                lines.append("\t\t" + render(rule, in: table))
            }
            lines.append("\t}")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func hookName(_ hook: NFTChain.Hook) -> String {
        switch hook {
        case .prerouting: "prerouting"
        case .input: "input"
        case .forward: "forward"
        case .output: "output"
        case .postrouting: "postrouting"
        }
    }

    static func render(_ set: NFTSet, in table: NFTTable) -> [String] {
        var lines = ["set \(set.name) {"]
        if let key = keyExpression(of: set.name, in: table) {
            lines.append("\ttypeof \(key)")
        } else {
            lines.append("\ttype " + Array(repeating: "mark", count: max(1, Int(set.keyLength) / 4)).joined(separator: " . "))
        }
        var flags: [String] = []
        if set.dynamic { flags.append("dynamic") }
        if set.timeoutMilliseconds != nil { flags.append("timeout") }
        if !flags.isEmpty { lines.append("\tflags " + flags.joined(separator: ",")) }
        if let timeout = set.timeoutMilliseconds { lines.append("\ttimeout \(timeout)ms") }
        if set.dynamic { lines.append("\tsize \(set.size ?? 65535)") }
        if !set.elements.isEmpty {
            lines.append("\telements = { " + set.elements.map { "0x" + hex($0) }.joined(separator: ", ") + " }")
        }
        lines.append("}")
        return lines
    }

    /// The expression that fills a set's key where the set is first used, for `typeof`.
    static func keyExpression(of setName: String, in table: NFTTable) -> String? {
        for rule in table.rules {
            var decompiler = RuleDecompiler(table: table)
            for expression in rule.expressions {
                switch expression {
                case .lookup(let set, let source, _) where set == setName,
                     .dynset(let set, _, let source, _) where set == setName:
                    return decompiler.key(of: setName, from: source)
                default:
                    decompiler.consume(expression)
                }
            }
        }
        return nil
    }

    public static func render(_ rule: NFTRule, in table: NFTTable) -> String {
        var decompiler = RuleDecompiler(table: table)
        rule.expressions.forEach { decompiler.consume($0) }
        var statements = decompiler.statements
        if let comment = rule.comment {
            statements.append("comment \"\(String(comment.map { $0 == "\"" ? "'" : $0 }))\"")
        }
        var line = statements.joined(separator: " ")
        if !decompiler.notes.isEmpty { line += " # " + decompiler.notes.joined(separator: "; ") }
        return line
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// What a register holds: the nft expression text and how to print a value compared with it.
struct Operand {
    enum Format { case port, tcpFlags, networkInteger, hostInteger, hostHex, nfproto, l4proto, ctDirection, shiftedNibble, raw }
    var text: String
    var format: Format
    var mask: [UInt8]? = nil
    var xor: [UInt8]? = nil
}

struct RuleDecompiler {
    let table: NFTTable
    var registers: [NFTRegister: Operand] = [:]
    var statements: [String] = []
    var notes: [String] = []

    init(table: NFTTable) { self.table = table }

    mutating func consume(_ expression: NFTExpression) {
        switch expression {
        case .payload(let base, let offset, let length, let destination):
            registers[destination] = Self.payloadOperand(base: base, offset: offset, length: length)
        case .meta(let key, let destination):
            registers[destination] = Self.metaOperand(key)
        case .ct(let key, let direction, let destination):
            registers[destination] = Self.ctOperand(key, direction: direction)
        case .numgenRandom(let modulus, let destination):
            registers[destination] = Operand(text: "numgen random mod \(modulus)", format: .hostInteger)
        case .byteorder(let source, let destination, _, _, _):
            // nft inserts hton before lt/gt on host-order values; the value is then big-endian.
            if var operand = registers[source] {
                if operand.format == .hostInteger { operand.format = .networkInteger }
                registers[destination] = operand
            }
        case .bitwise(let source, let destination, let mask, let xor):
            guard var operand = registers[source] else { return note("bitwise on an empty register") }
            operand.mask = mask
            operand.xor = xor
            registers[destination] = operand
        case .immediate(let destination, let data):
            registers[destination] = Operand(text: "0x" + NFTSyntaxRenderer.hex(data), format: .raw)
        case .cmp(let op, let source, let data):
            guard let operand = registers[source] else { return note("cmp on an empty register") }
            statements.append(Self.comparison(operand, op: op, data: data))
        case .lookup(let set, let source, let invert):
            guard let key = key(of: set, from: source) else { return note("lookup on an empty register") }
            statements.append("\(key) \(invert ? "!= " : "")@\(set)")
        case .dynset(let set, let op, let keySource, let timeout):
            guard let key = key(of: set, from: keySource) else { return note("dynset on an empty register") }
            let setTimeout = table.sets.first { $0.name == set }?.timeoutMilliseconds
            let element = key + (timeout != 0 && timeout != setTimeout ? " timeout \(timeout)ms" : "")
            statements.append("\(op) @\(set) { \(element) }")
        case .metaSet(let key, let source):
            guard let operand = registers[source] else { return note("set from an empty register") }
            // The stamped log (Action.stampedLog) saves the mark, lends it the kernel's clock for
            // one log and restores it: nft syntax has no saved registers, so say it in words.
            if key == .mark, operand.text == "meta time" {
                return note("each log carries meta time's low 32 bits as its mark, restored after it")
            }
            if key == .mark, operand.text == "meta mark", operand.mask == nil { return }
            statements.append("meta \(Self.metaKeyName(key)) set \(Self.assignment(operand))")
        case .ctSet(let key, let source):
            guard let operand = registers[source] else { return note("set from an empty register") }
            statements.append("ct \(Self.ctKeyName(key)) set \(Self.assignment(operand))")
        case .counter:
            statements.append("counter")
        case .log(let group, let prefix, let queueThreshold):
            statements.append("log prefix \"\(prefix)\" group \(group)" + (queueThreshold > 0 ? " queue-threshold \(queueThreshold)" : ""))
        case .verdict(let verdict):
            let text = switch verdict {
            case .accept: "accept"
            case .drop: "drop"
            case .continue: "continue"
            case .return: "return"
            case .jump(let chain): "jump \(chain)"
            case .goto(let chain): "goto \(chain)"
            }
            statements.append(text)
        case .queue(let number, let bypass):
            statements.append("queue num \(number)" + (bypass ? " bypass" : ""))
        case .xtQueue(let number, let bypass):
            // nft syntax cannot name an x_tables target; the native statement means the same.
            statements.append("queue num \(number)" + (bypass ? " bypass" : ""))
            note("faultproxy sends the x_tables NFQUEUE target (nft_compat): this kernel lacks the native queue")
        }
    }

    static func metaOperand(_ key: NFTExpression.MetaKey) -> Operand {
        switch key {
        case .length: Operand(text: "meta length", format: .hostInteger)
        case .nfproto: Operand(text: "meta nfproto", format: .nfproto)
        case .l4proto: Operand(text: "meta l4proto", format: .l4proto)
        case .mark: Operand(text: "meta mark", format: .hostHex)
        case .outputInterface: Operand(text: "meta oif", format: .hostInteger)
        case .timeNanoseconds: Operand(text: "meta time", format: .hostInteger)
        }
    }

    static func ctOperand(_ key: NFTExpression.CTKey, direction: NFTExpression.CTDirection?) -> Operand {
        let prefix = direction.map { "ct \($0 == .original ? "original" : "reply") " } ?? "ct "
        return switch key {
        case .direction: Operand(text: "ct direction", format: .ctDirection)
        case .mark: Operand(text: prefix + "mark", format: .hostHex)
        case .id: Operand(text: "ct id", format: .networkInteger)
        case .state: Operand(text: "ct state", format: .hostHex)
        case .status: Operand(text: "ct status", format: .hostHex)
        }
    }

    /// A set's key as it is loaded from `source` on: one register per 4 bytes of key, each
    /// part of a concatenation (`tcp sport . tcp sequence`) in a register of its own.
    func key(of setName: String, from source: NFTRegister) -> String? {
        let words = max(1, Int(table.sets.first { $0.name == setName }?.keyLength ?? 4) / 4)
        let parts = (0..<words).compactMap { registers[NFTRegister(rawValue: source.rawValue + UInt32($0))].map(Self.qualified) }
        return parts.count == words ? parts.joined(separator: " . ") : nil
    }

    mutating func note(_ text: String) { if !notes.contains(text) { notes.append(text) } }

    static func metaKeyName(_ key: NFTExpression.MetaKey) -> String {
        switch key {
        case .length: "length"
        case .nfproto: "nfproto"
        case .l4proto: "l4proto"
        case .mark: "mark"
        case .outputInterface: "oif"
        case .timeNanoseconds: "time"
        }
    }

    static func ctKeyName(_ key: NFTExpression.CTKey) -> String {
        switch key {
        case .state: "state"
        case .direction: "direction"
        case .status: "status"
        case .mark: "mark"
        case .id: "id"
        }
    }

    static func payloadOperand(base: NFTExpression.PayloadBase, offset: UInt32, length: UInt32) -> Operand {
        switch (base, offset, length) {
        case (.transport, 0, 2): return Operand(text: "tcp sport", format: .port)
        case (.transport, 2, 2): return Operand(text: "tcp dport", format: .port)
        case (.transport, 4, 4): return Operand(text: "tcp sequence", format: .networkInteger)
        case (.transport, 13, 1): return Operand(text: "tcp flags", format: .tcpFlags)
        case (.transport, 14, 2): return Operand(text: "tcp window", format: .networkInteger)
        case (.transport, 12, 1): return Operand(text: "tcp doff", format: .shiftedNibble)
        case (.network, 0, 1): return Operand(text: "ip hdrlength", format: .raw)
        default:
            let prefix = switch base {
            case .link: "@ll"
            case .network: "@nh"
            case .transport: "@th"
            }
            return Operand(text: "\(prefix),\(offset * 8),\(length * 8)", format: .networkInteger)
        }
    }

    /// `tcp dport 5000`, `tcp flags & (fin|syn|rst|ack) == syn`, `ct mark & 0x00000300 == 0x00000100`.
    static func comparison(_ operand: Operand, op: NFTExpression.CmpOp, data: [UInt8]) -> String {
        let symbol = switch op {
        case .eq: "=="
        case .neq: "!="
        case .lt: "<"
        case .lte: "<="
        case .gt: ">"
        case .gte: ">="
        }
        // The sub-byte header fields nft shows by name, unmasked.
        if let mask = operand.mask, operand.xor?.allSatisfy({ $0 == 0 }) ?? true {
            if operand.text == "tcp doff", mask == [0xf0] {
                return "tcp doff \(op == .eq ? "" : symbol + " ")\(data.first.map { $0 >> 4 } ?? 0)"
            }
            if operand.text == "ip hdrlength", mask == [0x0f] {
                return "ip hdrlength \(op == .eq ? "" : symbol + " ")\(data.first ?? 0)"
            }
        }
        if operand.mask == nil, operand.text == "tcp doff" || operand.text == "ip hdrlength" {
            return "\(rawText(operand)) \(symbol) 0x\(NFTSyntaxRenderer.hex(data))"
        }
        let value = format(data, as: operand.format)
        if operand.mask != nil {
            return "\(qualified(operand)) \(symbol) \(value)"
        }
        return op == .eq ? "\(operand.text) \(value)" : "\(operand.text) \(symbol) \(value)"
    }

    /// Raw payload text for the named sub-byte fields when nothing masked them.
    static func rawText(_ operand: Operand) -> String {
        operand.text == "tcp doff" ? "@th,96,8" : "@nh,0,8"
    }

    /// The operand with its bitwise: `ct mark & 0x00000300`.
    static func qualified(_ operand: Operand) -> String {
        guard let mask = operand.mask else { return operand.text }
        let base = operand.text == "tcp doff" || operand.text == "ip hdrlength" ? rawText(operand) : operand.text
        let format: Operand.Format = operand.format == .shiftedNibble ? .raw : operand.format
        let xor = operand.xor ?? []
        let maskValue = format == .tcpFlags ? "(\(flagNames(mask.first ?? 0)))" : Self.format(mask, as: format)
        let xorIsZero = xor.allSatisfy { $0 == 0 }
        let maskIsOnes = mask.allSatisfy { $0 == 0xff }
        var text = maskIsOnes ? base : "\(base) & \(maskValue)"
        if !xorIsZero {
            // (x & m) ^ v is (x & m) | v when v only touches bits the mask cleared.
            let disjoint = zip(mask, xor).allSatisfy { $0 & $1 == 0 }
            text += " \(disjoint ? "|" : "^") \(Self.format(xor, as: format))"
        }
        return text
    }

    /// The value a set statement stores.
    static func assignment(_ operand: Operand) -> String { qualified(operand) }

    static func format(_ data: [UInt8], as format: Operand.Format) -> String {
        switch format {
        case .port, .networkInteger:
            return String(data.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        case .hostInteger:
            return String(data.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        case .hostHex:
            return "0x" + NFTSyntaxRenderer.hex(data.reversed())
        case .tcpFlags:
            return flagNames(data.first ?? 0)
        case .nfproto:
            return switch data.first { case 2: "ipv4"; case 10: "ipv6"; default: String(data.first ?? 0) }
        case .l4proto:
            return switch data.first { case 6: "tcp"; case 17: "udp"; default: String(data.first ?? 0) }
        case .ctDirection:
            return switch data.first { case 0: "original"; case 1: "reply"; default: String(data.first ?? 0) }
        case .shiftedNibble, .raw:
            return "0x" + NFTSyntaxRenderer.hex(data)
        }
    }

    /// "syn|ack"; nft accepts a `|` list of flag names as one value.
    static func flagNames(_ bits: UInt8) -> String {
        let names: [(UInt8, String)] = [(0x01, "fin"), (0x02, "syn"), (0x04, "rst"), (0x08, "psh"), (0x10, "ack"), (0x20, "urg"), (0x40, "ecn"), (0x80, "cwr")]
        let present = names.filter { bits & $0.0 != 0 }.map(\.1)
        return present.isEmpty ? "0x0" : present.joined(separator: "|")
    }
}
