import TCPLabFault
import TCPLabNetlink

/// What `nft --debug=netlink` prints for a table, and the same text written from the rule model,
/// so FaultRulesKernelTests can compare the two rule by rule.
extension FaultRulesKernelTests {
    // MARK: nft --debug=netlink text

    /// The rules nft printed while loading: "inet TABLE CHAIN" then one "  [ ... ]" line per expression.
    static func netlinkRules(_ debug: String, table: String) -> [(chain: String, lines: [String])] {
        var rules: [(chain: String, lines: [String])] = []
        for line in debug.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let words = line.split(separator: " ")
            if words.count == 3, words[0] == "inet", words[1] == table {
                rules.append((String(words[2]), []))
            } else if line.hasPrefix("  [ "), !rules.isEmpty {
                // libnftnl 1.2 has no name for NFT_CT_ID and prints "unknown"; newer ones print "id".
                let text = line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "[ ct load id =>", with: "[ ct load unknown =>")
                rules[rules.count - 1].lines.append(text)
            }
        }
        return rules
    }

    /// nft adds `meta l4proto tcp` before every tcp header match of a regular chain; the
    /// linearizer checked it once in the base chain. Compare without those pairs.
    static func withoutL4protoDependency(_ lines: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < lines.count {
            if lines[index] == "[ meta load l4proto => reg 1 ]", index + 1 < lines.count, lines[index + 1] == "[ cmp eq reg 1 0x00000006 ]" {
                index += 2
                continue
            }
            result.append(lines[index])
            index += 1
        }
        return result
    }

    /// Our expressions as libnftnl prints them, registers in nft's 16-byte numbering.
    static func netlinkText(_ expressions: [NFTExpression]) -> [String] {
        func reg(_ register: NFTRegister) -> String {
            let raw = register.rawValue
            return raw >= 8 && (raw - 8) % 4 == 0 ? "reg \((raw - 8) / 4 + 1)" : "reg \(raw)"
        }
        func words(_ bytes: [UInt8]) -> String {
            stride(from: 0, to: bytes.count, by: 4).map { start in
                let chunk = bytes[start..<min(start + 4, bytes.count)]
                let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
                return String(format: "0x%08x", value)
            }.joined(separator: " ")
        }
        return expressions.map { expression in
            switch expression {
            case .payload(let base, let offset, let length, let destination):
                let header = ["link layer", "network", "transport"][Int(base.rawValue)]
                return "[ payload load \(length)b @ \(header) header + \(offset) => \(reg(destination)) ]"
            case .meta(let key, let destination):
                let name = [NFTExpression.MetaKey.length: "len", .nfproto: "nfproto", .l4proto: "l4proto", .mark: "mark", .outputInterface: "oif", .timeNanoseconds: "time"][key]!
                return "[ meta load \(name) => \(reg(destination)) ]"
            case .metaSet(let key, let source):
                return "[ meta set \(key == .mark ? "mark" : "?") with \(reg(source)) ]"
            case .ct(let key, _, let destination):
                let name = [NFTExpression.CTKey.mark: "mark", .direction: "direction", .id: "unknown", .state: "state", .status: "status"][key]!
                return "[ ct load \(name) => \(reg(destination)) ]"
            case .ctSet(_, let source):
                return "[ ct set mark with \(reg(source)) ]"
            case .cmp(let op, let source, let data):
                let name = ["eq", "neq", "lt", "lte", "gt", "gte"][Int(op.rawValue)]
                return "[ cmp \(name) \(reg(source)) \(words(data)) ]"
            case .bitwise(let source, let destination, let mask, let xor):
                return "[ bitwise \(reg(destination)) = ( \(reg(source)) & \(words(mask)) ) ^ \(words(xor)) ]"
            case .byteorder(let source, let destination, let op, let length, let size):
                return "[ byteorder \(reg(destination)) = \(op == .hton ? "hton" : "ntoh")(\(reg(source)), \(size), \(length)) ]"
            case .immediate(let destination, let data):
                return "[ immediate \(reg(destination)) \(words(data)) ]"
            case .verdict(let verdict):
                return switch verdict {
                case .accept: "[ immediate reg 0 accept ]"
                case .drop: "[ immediate reg 0 drop ]"
                case .continue: "[ immediate reg 0 continue ]"
                case .return: "[ immediate reg 0 return ]"
                case .jump(let chain): "[ immediate reg 0 jump -> \(chain) ]"
                case .goto(let chain): "[ immediate reg 0 goto -> \(chain) ]"
                }
            case .counter:
                return "[ counter pkts 0 bytes 0 ]"
            case .log(let group, let prefix, let threshold):
                return "[ log prefix \(prefix) group \(group) snaplen 0 qthreshold \(threshold) ]"
            case .lookup(let set, let source, let invert):
                return "[ lookup \(reg(source)) set \(set)\(invert ? " 0x1" : "") ]"
            case .dynset(let set, let op, let key, _):
                return "[ dynset \(op) reg_key \(reg(key).dropFirst(4)) set \(set) ]"
            case .numgenRandom(let modulus, let destination):
                return "[ numgen \(reg(destination)) = random mod \(modulus) ]"
            case .queue(let number, let bypass), .xtQueue(let number, let bypass):
                return "[ queue num \(number)\(bypass ? " bypass" : "") ]"
            }
        }
    }
}
