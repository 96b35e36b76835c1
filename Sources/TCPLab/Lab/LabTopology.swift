/// Where a lab's ends live.
///
/// - `loopback`: client and server share one namespace and talk over `lo` (MSS 65483, one
///   set of sysctls), as TCPLab always did.
/// - `twoHosts`: each end has a namespace of its own, joined by a veth pair with MTU 1500
///   (MSS 1460, each host its own sysctls), as docker-compose services, pods or two machines.
/// - `router`: the same with a forwarding namespace between them.
///
/// faultproxy runs in the server's namespace (a sidecar's place) and follows both ends' socket
/// states; it acts on and logs both directions wherever it runs.
public enum LabTopology: String, CaseIterable, Codable, Sendable {
    case loopback
    case twoHosts = "two-hosts"
    case router
}

/// What the link between the ends allows, from the client's interface as the kernel reports it.
public struct LinkModel: Sendable, Equatable {
    public var mtu: Int

    /// The MSS a SYN advertises over IPv4: the MTU less the 20-byte IP and TCP headers
    /// (tcp_mss_clamp aside). Loopback's 65536 gives 65496 → 65495 (the kernel caps at 65535 − 40),
    /// veth's 1500 gives 1460.
    public var advertisedMSS: Int { min(mtu, 65_535) - 40 }
}
