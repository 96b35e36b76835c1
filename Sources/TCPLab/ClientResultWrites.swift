/// What echo-client reports about its writes (`first_write_ms`, `sent`) and TCP_INFO counters,
/// for labs where the connection breaks after the data went out.
extension ClientResult {
    /// From the client's first write() to the end of its run (the echo, or the error that broke
    /// the connection), on the client's own monotonic clock.
    public var secondsFromFirstWriteToEnd: Double? {
        guard let report, let first = report.firstWriteMilliseconds else { return nil }
        return (report.elapsedMilliseconds - first) / 1000
    }

    /// Bytes written with `--send-only` (not waiting for an echo).
    public var sentBytes: Int? { report?.sent }

    /// TCP_INFO tcpi_total_retrans: every retransmission the connection made (probes included).
    public var totalRetransmissions: Int? { tcpInfo?.totalRetrans }
}
