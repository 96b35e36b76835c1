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

    /// The largest TCP payload per segment the link carries (IPv4 with timestamps: MTU less
    /// 20 IP, 20 TCP and 12 option bytes).
    public var segmentPayloadBytes: Int {
        switch self {
        case .loopback: 65_483 - 12
        case .twoHosts, .router: 1_460 - 12
        }
    }
}
