import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// `--list` and `--cleanup`: the faultproxy tables in a namespace, and removing the ones whose
/// process is gone (a kernel without owner tables keeps them after a crash), and stale trace instances.
struct Maintenance {
    let netns: NamespaceReference?

    enum Action { case list, cleanup }

    static let tablePrefix = "faultproxy_"

    func run(_ action: Action) throws {
        if let netns { try NetworkNamespace.enter(netns) }
        let nftables = try NFTablesClient()
        let tables = try nftables.listTables(family: .inet).filter { $0.name.hasPrefix(Self.tablePrefix) }
        switch action {
        case .list:
            if tables.isEmpty { print("no faultproxy tables"); return }
            for table in tables {
                let owner = Self.ownerPID(table.name).map { Self.isAlive($0) ? "pid \($0)" : "pid \($0) (gone)" } ?? "unknown owner"
                print("table inet \(table.name) — \(owner)")
                for counter in try nftables.ruleCounters(family: table.family ?? .inet, table: table.name) where counter.comment != nil {
                    print("  \(counter.comment!): \(counter.packets) packets")
                }
            }
        case .cleanup:
            var removed = 0
            for table in tables where Self.ownerPID(table.name).map({ !Self.isAlive($0) }) ?? true {
                try nftables.deleteTable(family: table.family ?? .inet, name: table.name)
                print("removed table inet \(table.name)")
                removed += 1
            }
            // Trace instances survive SIGKILL; their names carry the run's PID.
            for name in TraceInstance.removeStale() {
                print("removed trace instance \(name)")
                removed += 1
            }
            print(removed == 0 ? "nothing to clean up" : "removed \(removed) table(s) and trace instance(s)")
        }
    }

    /// faultproxy_<pid>, or faultproxy_<pid>_<n> for the n-th session of a library process.
    static func ownerPID(_ name: String) -> Int32? { Int32(name.dropFirst(tablePrefix.count).prefix { $0.isNumber }) }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
}
