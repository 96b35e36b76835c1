import Foundation
import TCPLabModel

/// The net.ipv4 sysctls of the namespace this process runs in, read from /proc/sys. Every
/// container of a compose lab shares the server's namespace, so these are the values the
/// kernel applied to the lab's connections (compose `sysctls:` on the first service).
struct KernelSysctls: Sendable {
    var values: [String: Int]

    static let names = [
        "tcp_syn_retries", "tcp_syn_linear_timeouts", "tcp_synack_retries", "tcp_fin_timeout",
        "tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes", "tcp_orphan_retries",
        "tcp_rto_max_ms",
    ]

    static func read(root: String = "/proc/sys/net/ipv4") -> KernelSysctls {
        var values: [String: Int] = [:]
        for name in names {
            let text = try? String(contentsOfFile: "\(root)/\(name)", encoding: .utf8)
            if let text, let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) { values[name] = value }
        }
        return KernelSysctls(values: values)
    }

    /// A sysctl's value; nil when this kernel does not have it (tcp_syn_linear_timeouts before 6.5).
    subscript(_ name: String) -> Int? { values[name] }

    /// The timing model's inputs (TCPLabModel, the same the in-process labs use); sysctls not read
    /// here take the documented defaults.
    var kernel: KernelParameters {
        KernelParameters(reading: { key in
            let name = key.hasPrefix("net.ipv4.") ? String(key.dropFirst("net.ipv4.".count)) : key
            return values[name].map(String.init)
        })
    }

    func describe(_ keys: [String]) -> String {
        keys.map { "\($0)=\(values[$0].map(String.init) ?? "absent")" }.joined(separator: " ")
    }
}
