/// Every counter of /proc/net/netstat and /proc/net/snmp inside a lab's namespace at one moment
/// ("TcpExt" "TCPLossProbes", "Tcp" "RetransSegs"), read in one go so a lab can show what one
/// step of it changed: `after.delta(from: before)`.
public struct NetstatSnapshot: Sendable, Hashable {
    /// "TcpExt.TCPLossProbes" → value.
    public var values: [String: Int]

    public init(values: [String: Int]) { self.values = values }

    /// Parses the files' pairs of lines: "Group: name name ..." then "Group: value value ...".
    public init(parsing text: String) {
        var values: [String: Int] = [:]
        let lines = text.split(separator: "\n")
        var index = 0
        while index + 1 < lines.count {
            let names = lines[index].split(separator: " ")
            let numbers = lines[index + 1].split(separator: " ")
            if let group = names.first, group.hasSuffix(":"), numbers.first == group {
                for (name, number) in zip(names.dropFirst(), numbers.dropFirst()) {
                    values["\(group.dropLast()).\(name)"] = Int(number) ?? 0
                }
                index += 2
            } else {
                index += 1
            }
        }
        self.values = values
    }

    /// A counter ("TcpExt", "TCPTimeouts"); 0 when this kernel does not have it.
    public subscript(group: String, name: String) -> Int { values["\(group).\(name)"] ?? 0 }

    /// What changed since `earlier`, counter by counter.
    public func delta(from earlier: NetstatSnapshot) -> NetstatSnapshot {
        NetstatSnapshot(values: values.mapValues { $0 }.merging(earlier.values.mapValues { -$0 }, uniquingKeysWith: +))
    }

    /// "TCPLossProbes 1, TCPTimeouts 0" for the TcpExt counters named.
    public func describe(_ names: [String], group: String = "TcpExt") -> String {
        names.map { "\($0) \(self[group, $0])" }.joined(separator: ", ")
    }


    /// Both hosts' counters added up: what one namespace would count for both ends.
    public static func + (lhs: NetstatSnapshot, rhs: NetstatSnapshot) -> NetstatSnapshot {
        NetstatSnapshot(values: lhs.values.merging(rhs.values, uniquingKeysWith: +))
    }
}

extension Lab {
    /// /proc/net/netstat and /proc/net/snmp now, summed over the hosts (on loopback the one
    /// namespace's; on two hosts the client's plus the server's).
    public func netstat() throws -> NetstatSnapshot {
        try hosts.map { try $0.namespace.netstat() }.reduce(NetstatSnapshot(values: [:]), +)
    }

    /// One counter ("TcpExt", "ListenOverflows"), summed over the hosts like `netstat()`.
    public func counter(_ group: String, _ name: String) throws -> Int {
        let snapshot = try netstat()
        guard snapshot.values["\(group).\(name)"] != nil else { throw LabError.unexpected("no counter \(group) \(name) in /proc/net") }
        return snapshot[group, name]
    }
}

extension LabNamespace {
    /// /proc/net/netstat and /proc/net/snmp as this namespace sees them now.
    public func netstat() throws -> NetstatSnapshot {
        NetstatSnapshot(parsing: try run(["cat", "/proc/net/netstat", "/proc/net/snmp"]).standardOutput)
    }
}
