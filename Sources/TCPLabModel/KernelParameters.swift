/// The sysctls the kernel model reads, as one namespace reports them. Every schedule a lab
/// expects is computed from these values read back from the lab's own namespace, never from
/// numbers copied out of the notes. Optional fields are sysctls an older kernel does not have.
public struct KernelParameters: Sendable, Hashable, Codable {
    public var synRetries: Int
    /// tcp_syn_linear_timeouts (6.5+).
    public var synLinearTimeouts: Int?
    public var synackRetries: Int
    public var finTimeout: Int
    public var keepaliveTime: Int
    public var keepaliveInterval: Int
    public var keepaliveProbes: Int
    public var retries2: Int
    public var orphanRetries: Int
    /// tcp_rto_min_us (6.11+); the compiled-in TCP_RTO_MIN before.
    public var rtoMinMicroseconds: Int?
    /// tcp_rto_max_ms (6.15+); the compiled-in TCP_RTO_MAX before.
    public var rtoMaxMilliseconds: Int?
    public var abortOnOverflow: Int
    public var maxSynBacklog: Int
    public var syncookies: Int
    public var twReuse: Int
    public var maxTwBuckets: Int

    public init(synRetries: Int = 6, synLinearTimeouts: Int? = 4, synackRetries: Int = 5, finTimeout: Int = 60,
                keepaliveTime: Int = 7200, keepaliveInterval: Int = 75, keepaliveProbes: Int = 9, retries2: Int = 15,
                orphanRetries: Int = 0, rtoMinMicroseconds: Int? = 200_000, rtoMaxMilliseconds: Int? = 120_000,
                abortOnOverflow: Int = 0, maxSynBacklog: Int = 128, syncookies: Int = 1, twReuse: Int = 2,
                maxTwBuckets: Int = 131_072) {
        self.synRetries = synRetries
        self.synLinearTimeouts = synLinearTimeouts
        self.synackRetries = synackRetries
        self.finTimeout = finTimeout
        self.keepaliveTime = keepaliveTime
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveProbes = keepaliveProbes
        self.retries2 = retries2
        self.orphanRetries = orphanRetries
        self.rtoMinMicroseconds = rtoMinMicroseconds
        self.rtoMaxMilliseconds = rtoMaxMilliseconds
        self.abortOnOverflow = abortOnOverflow
        self.maxSynBacklog = maxSynBacklog
        self.syncookies = syncookies
        self.twReuse = twReuse
        self.maxTwBuckets = maxTwBuckets
    }

    /// The values Documentation/networking/ip-sysctl.rst gives as defaults for a 6.18 kernel.
    public static let documentedDefaults = KernelParameters()

    /// Reads every parameter with `read` (a sysctl name → its text, nil when the kernel lacks it).
    /// Missing mandatory sysctls fall back to the documented default.
    public init(reading read: (String) -> String?) {
        func value(_ key: String) -> Int? { read("net.ipv4." + key).flatMap { Int($0.split(separator: "\t").first ?? "") } }
        let defaults = Self.documentedDefaults
        self.init(
            synRetries: value("tcp_syn_retries") ?? defaults.synRetries,
            synLinearTimeouts: value("tcp_syn_linear_timeouts"),
            synackRetries: value("tcp_synack_retries") ?? defaults.synackRetries,
            finTimeout: value("tcp_fin_timeout") ?? defaults.finTimeout,
            keepaliveTime: value("tcp_keepalive_time") ?? defaults.keepaliveTime,
            keepaliveInterval: value("tcp_keepalive_intvl") ?? defaults.keepaliveInterval,
            keepaliveProbes: value("tcp_keepalive_probes") ?? defaults.keepaliveProbes,
            retries2: value("tcp_retries2") ?? defaults.retries2,
            orphanRetries: value("tcp_orphan_retries") ?? defaults.orphanRetries,
            rtoMinMicroseconds: value("tcp_rto_min_us"),
            rtoMaxMilliseconds: value("tcp_rto_max_ms"),
            abortOnOverflow: value("tcp_abort_on_overflow") ?? defaults.abortOnOverflow,
            maxSynBacklog: value("tcp_max_syn_backlog") ?? defaults.maxSynBacklog,
            syncookies: value("tcp_syncookies") ?? defaults.syncookies,
            twReuse: value("tcp_tw_reuse") ?? defaults.twReuse,
            maxTwBuckets: value("tcp_max_tw_buckets") ?? defaults.maxTwBuckets
        )
    }

    /// RTO floor in seconds (TCP_RTO_MIN = HZ/5 when the sysctl is absent).
    public var rtoMin: Double { Double(rtoMinMicroseconds ?? 200_000) / 1_000_000 }
    /// RTO ceiling in seconds (TCP_RTO_MAX = 120 s when the sysctl is absent).
    public var rtoMax: Double { Double(rtoMaxMilliseconds ?? 120_000) / 1000 }

    /// The client's SYN schedule.
    public var syn: RetransmissionSchedule {
        RetransmissionModel.syn(synRetries: synRetries, linearTimeouts: synLinearTimeouts ?? 0, maximumRTO: rtoMax)
    }

    /// The listener's SYN-ACK schedule (timer-driven retransmissions only).
    public var synAck: RetransmissionSchedule {
        RetransmissionModel.synAck(synackRetries: synackRetries, maximumRTO: rtoMax)
    }

    /// "tcp_syn_retries=6 tcp_syn_linear_timeouts=4" for the sysctls named.
    public func describe(_ keys: [String]) -> String {
        let all: [String: Int?] = [
            "tcp_syn_retries": synRetries, "tcp_syn_linear_timeouts": synLinearTimeouts,
            "tcp_synack_retries": synackRetries, "tcp_fin_timeout": finTimeout,
            "tcp_keepalive_time": keepaliveTime, "tcp_keepalive_intvl": keepaliveInterval,
            "tcp_keepalive_probes": keepaliveProbes, "tcp_retries2": retries2,
            "tcp_orphan_retries": orphanRetries, "tcp_rto_min_us": rtoMinMicroseconds,
            "tcp_rto_max_ms": rtoMaxMilliseconds, "tcp_abort_on_overflow": abortOnOverflow,
            "tcp_max_syn_backlog": maxSynBacklog, "tcp_syncookies": syncookies, "tcp_tw_reuse": twReuse,
            "tcp_max_tw_buckets": maxTwBuckets,
        ]
        return keys.map { key in "\(key)=\(all[key].flatMap { $0 }.map(String.init) ?? "absent")" }.joined(separator: " ")
    }
}
