import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// What one message of an nftables batch creates or removes: what a kernel error is blamed on.
public enum NFTObject: Hashable, Sendable, CustomStringConvertible {
    case batch
    case table(family: NFTTable.Family, name: String)
    case deleteTable(family: NFTTable.Family, name: String)
    case chain(String)
    case set(String)
    case setElements(set: String)
    /// `index` counts the table's rules from 0, in install order.
    case rule(index: Int, chain: String, comment: String?)

    public var description: String {
        switch self {
        case .batch: "batch"
        case let .table(family, name): "table \(family) \(name)"
        case let .deleteTable(family, name): "deletion of table \(family) \(name)"
        case let .chain(name): "chain \(name)"
        case let .set(name): "set \(name)"
        case let .setElements(set): "elements of set \(set)"
        case let .rule(index, chain, comment):
            if let comment { "rule \"\(comment)\" (chain \(chain))" } else { "rule #\(index) (chain \(chain))" }
        }
    }
}

/// Why an nftables request failed, in one line a user can act on.
public enum NFTablesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kernel refused one message of the batch; nothing of the batch was applied.
    /// `hint` adds what the errno most likely means for this object.
    case refused(NFTObject, errno: Errno, hint: String?)
    /// The socket or batch was refused for lack of CAP_NET_ADMIN in the socket's namespace.
    case needsCapNetAdmin(call: String)
    /// The kernel has no nf_tables (or not for this family).
    case kernelLacksNFTables(errno: Errno, detail: String)
    /// A system call on the netlink socket failed.
    case system(SystemCallError)
    /// The batch does not fit in one netlink datagram.
    case batchTooLarge(bytes: Int)
    /// No answer from the kernel for some messages within the time limit.
    case noAnswer(missing: [NFTObject])
    case malformedReply(String)
    case libnftnl(String)
    case invalidExpression(String)
    case invalidRule(String)
    case invalidSet(String)
    /// Reading back an expression the IR has no case for.
    case unsupportedExpression(String)

    /// The errno the kernel answered with, when it did.
    public var errno: Errno? {
        switch self {
        case let .refused(_, errno, _): errno
        case let .kernelLacksNFTables(errno, _): errno
        case .needsCapNetAdmin: .notPermitted
        case let .system(error): error.errno
        default: nil
        }
    }

    public var description: String {
        switch self {
        case let .refused(object, errno, hint):
            "kernel refused \(object): \(Self.describe(errno))" + (hint.map { "; \($0)" } ?? "")
        case let .needsCapNetAdmin(call):
            "\(call): needs CAP_NET_ADMIN: run as root (sudo) or grant it (setcap cap_net_admin+ep <executable>)"
        case let .kernelLacksNFTables(errno, detail):
            "\(detail): \(Self.describe(errno)); the kernel lacks nf_tables (CONFIG_NF_TABLES / CONFIG_NF_TABLES_INET)"
        case let .system(error): error.description
        case let .batchTooLarge(bytes): "nftables batch of \(bytes) bytes does not fit in one netlink message"
        case let .noAnswer(missing):
            "no answer from the kernel for " + missing.map(\.description).joined(separator: ", ")
        case let .malformedReply(what): "malformed nftables reply: \(what)"
        case let .libnftnl(what): "libnftnl: \(what)"
        case let .invalidExpression(what): "invalid expression: \(what)"
        case let .invalidRule(what): "invalid rule: \(what)"
        case let .invalidSet(what): "invalid set: \(what)"
        case let .unsupportedExpression(what): "TCPLab's nftables model has no case for \(what)"
        }
    }

    /// "Operation not supported (EOPNOTSUPP)".
    static func describe(_ errno: Errno) -> String {
        "\(String(cString: strerror(errno.rawValue))) (\(SystemCallError.name(of: errno)))"
    }
}
