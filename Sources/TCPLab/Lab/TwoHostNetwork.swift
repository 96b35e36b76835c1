import Foundation

/// One host of a `TwoHostNetwork`: a namespace of its own (own sysctls, conntrack, nftables)
/// and its address on the link.
public struct LabHost: Sendable {
    public let namespace: LabNamespace
    /// The host's address on its link ("198.18.0.2").
    public let address: String
    /// Its interfaces, as `ip` and tcpdump name them inside the namespace ("eth0").
    public let interfaces: [String]

    /// The interface facing `peer` (for a router, the one on the peer's link).
    public func interface(facing peer: LabHost) -> String {
        guard interfaces.count > 1 else { return interfaces[0] }
        return peer.address.hasPrefix(TwoHostNetwork.clientSubnet) ? interfaces[0] : interfaces[1]
    }
}

/// A client and a server in two namespaces joined by a veth pair (MTU 1500), as docker-compose
/// services on one network, two pods or two real hosts are; optionally a router namespace in
/// between (forwarding, one link on each side). Addresses come from 198.18.0.0/15 (RFC 2544's
/// benchmarking range) and exist only inside these namespaces; nothing is routed off the machine.
/// `delete()` removes the namespaces, which takes the veth pairs with them.
public final class TwoHostNetwork: @unchecked Sendable {
    public let client: LabHost
    public let server: LabHost
    public let router: LabHost?

    static let clientSubnet = "198.18.1."
    static let serverSubnet = "198.18.2."
    static let directSubnet = "198.18.0."

    public init(prefix: String = "tcplab", router withRouter: Bool = false) throws {
        let clientNamespace = try LabNamespace(prefix: "\(prefix)-client")
        var made = [clientNamespace]
        do {
            let serverNamespace = try LabNamespace(prefix: "\(prefix)-server")
            made.append(serverNamespace)
            if withRouter {
                let routerNamespace = try LabNamespace(prefix: "\(prefix)-router")
                made.append(routerNamespace)
                try Self.link(clientNamespace, "eth0", routerNamespace, "eth-client")
                try Self.link(serverNamespace, "eth0", routerNamespace, "eth-server")
                try Self.configure(clientNamespace, "eth0", Self.clientSubnet + "2", gateway: Self.clientSubnet + "1")
                try Self.configure(serverNamespace, "eth0", Self.serverSubnet + "2", gateway: Self.serverSubnet + "1")
                try Self.configure(routerNamespace, "eth-client", Self.clientSubnet + "1")
                try Self.configure(routerNamespace, "eth-server", Self.serverSubnet + "1")
                try routerNamespace.setSysctl("net.ipv4.ip_forward", "1")
                client = LabHost(namespace: clientNamespace, address: Self.clientSubnet + "2", interfaces: ["eth0"])
                server = LabHost(namespace: serverNamespace, address: Self.serverSubnet + "2", interfaces: ["eth0"])
                router = LabHost(namespace: routerNamespace, address: Self.clientSubnet + "1", interfaces: ["eth-client", "eth-server"])
            } else {
                try Self.link(clientNamespace, "eth0", serverNamespace, "eth0")
                try Self.configure(clientNamespace, "eth0", Self.directSubnet + "1")
                try Self.configure(serverNamespace, "eth0", Self.directSubnet + "2")
                client = LabHost(namespace: clientNamespace, address: Self.directSubnet + "1", interfaces: ["eth0"])
                server = LabHost(namespace: serverNamespace, address: Self.directSubnet + "2", interfaces: ["eth0"])
                router = nil
            }
        } catch {
            made.forEach { $0.delete() }
            throw error
        }
    }

    deinit { delete() }

    /// Every host, client first.
    public var hosts: [LabHost] { [client] + (router.map { [$0] } ?? []) + [server] }

    /// Deletes the namespaces (and so the veth pairs). Safe to call twice.
    public func delete() {
        hosts.reversed().forEach { $0.namespace.delete() }
    }

    /// A veth pair made directly inside the two namespaces, so its names never meet the host's.
    private static func link(_ a: LabNamespace, _ aName: String, _ b: LabNamespace, _ bName: String) throws {
        try CommandRunner.run(["ip", "link", "add", aName, "netns", a.name, "mtu", "1500", "type", "veth",
                               "peer", "name", bName, "netns", b.name, "mtu", "1500"])
    }

    private static func configure(_ namespace: LabNamespace, _ interface: String, _ address: String, gateway: String? = nil) throws {
        try namespace.run(["ip", "addr", "add", address + "/24", "dev", interface])
        try namespace.run(["ip", "link", "set", interface, "up"])
        if let gateway { try namespace.run(["ip", "route", "add", "default", "via", gateway]) }
    }
}
