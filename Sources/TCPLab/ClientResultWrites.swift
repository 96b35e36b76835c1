import Foundation

/// What echo-client reports about its writes (`first_write_ms`, `sent`) and TCP_INFO counters,
/// for labs where the connection breaks after the data went out.
extension ClientResult {
    /// From the client's first write() to the end of its run (the echo, or the error that broke
    /// the connection), on the client's own monotonic clock.
    public var secondsFromFirstWriteToEnd: Double? {
        guard let first = number("first_write_ms"), let elapsed = number("elapsed_ms") else { return nil }
        return (elapsed - first) / 1000
    }

    /// Bytes written with `--send-only` (not waiting for an echo).
    public var sentBytes: Int? { number("sent").map { Int($0) } }

    /// TCP_INFO tcpi_total_retrans: every retransmission the connection made (probes included).
    public var totalRetransmissions: Int? { (tcpInfo["total_retrans"] as? NSNumber)?.intValue }

    private func number(_ key: String) -> Double? { (report[key] as? NSNumber)?.doubleValue }
}
