/// GET /metrics in Prometheus' text exposition format (version 0.0.4): bytes per proxy and
/// direction, connections, and the segment toxics' kernel counters (drops, delays, duplicates).
enum MetricsText {
    static func render(_ proxies: [ManagedProxy]) -> String {
        var out = ""
        family(&out, "faultproxy_proxy_bytes_total", "counter", "Bytes relayed, by proxy and direction (upstream = client to server).") {
            proxies.flatMap { proxy in [
                ("proxy=\"\(escape(proxy.name))\",direction=\"upstream\"", proxy.counters.upstreamBytes.load(ordering: .relaxed)),
                ("proxy=\"\(escape(proxy.name))\",direction=\"downstream\"", proxy.counters.downstreamBytes.load(ordering: .relaxed)),
            ] }
        }
        family(&out, "faultproxy_proxy_connections_total", "counter", "Client connections accepted.") {
            proxies.map { ("proxy=\"\(escape($0.name))\"", $0.counters.accepted.load(ordering: .relaxed)) }
        }
        family(&out, "faultproxy_proxy_connections_open", "gauge", "Client connections open now.") {
            proxies.map { ("proxy=\"\(escape($0.name))\"", UInt64(max(0, $0.counters.open.load(ordering: .relaxed)))) }
        }
        family(&out, "faultproxy_proxy_upstream_failures_total", "counter", "Client connections closed because the upstream could not be reached.") {
            proxies.map { ("proxy=\"\(escape($0.name))\"", $0.counters.upstreamFailures.load(ordering: .relaxed)) }
        }
        family(&out, "faultproxy_segment_toxic_packets_total", "counter", "Segments a segment toxic acted on (the kernel's rule counters), by proxy, toxic and action.") {
            proxies.flatMap { proxy in
                proxy.segments.counters().map { counter in
                    ("proxy=\"\(escape(proxy.name))\",toxic=\"\(escape(counter.toxic))\",action=\"\(counter.action)\"", counter.packets)
                }
            }
        }
        return out
    }

    private static func family(_ out: inout String, _ name: String, _ type: String, _ help: String,
                               _ samples: () -> [(labels: String, value: UInt64)]) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples() { out += "\(name){\(sample.labels)} \(sample.value)\n" }
    }

    static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
