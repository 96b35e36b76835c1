/// Which timers a lab runs with.
public enum LabProfile: String, Sendable, CaseIterable, Codable {
    /// Compressed timers: per-namespace sysctls (and per-socket options the labs set), so the
    /// whole catalogue runs in minutes. The model reads them back like any other value.
    case fast
    /// The kernel's own values: slow (minutes per lab; labs that would take hours are skipped).
    case defaults

    /// The sysctls the fast profile sets in every lab's namespace; a key this kernel lacks is skipped.
    public static let fastSysctls: [(key: String, value: Int)] = [
        ("net.ipv4.tcp_syn_retries", 2),
        ("net.ipv4.tcp_synack_retries", 2),
        ("net.ipv4.tcp_fin_timeout", 2),
        ("net.ipv4.tcp_keepalive_time", 2),
        ("net.ipv4.tcp_keepalive_intvl", 1),
        ("net.ipv4.tcp_keepalive_probes", 3),
        ("net.ipv4.tcp_retries2", 3),
        ("net.ipv4.tcp_orphan_retries", 2),
        ("net.ipv4.tcp_rto_max_ms", 5000),
    ]

    /// The longest a lab may take in this profile before it is skipped as impractical.
    public var budgetSeconds: Double { self == .fast ? 60 : 600 }
}
