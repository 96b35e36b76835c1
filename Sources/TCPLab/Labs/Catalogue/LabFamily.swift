/// What the labs of every family share: offsets on the timeline and the RTO the model expects.
protocol LabFamily {}

extension LabFamily {
    /// Seconds from `origin` to `time` (both µs since the epoch), nil when `time` never came.
    static func seconds(_ time: Int64?, from origin: Int64) -> Double? { time.map { Double($0 - origin) / 1_000_000 } }

    /// The RTO the model expects for an established loopback connection, from the client's measured RTT.
    static func rto(_ ctx: LabContext, _ client: ClientResult) -> Double {
        let rto = EstablishedRetransmissionModel.rto(rtt: client.rttSeconds ?? 0, rtoMin: ctx.kernel.rtoMin)
        ctx.fact("RTO model: srtt \(Int(((client.rttSeconds ?? 0) * 1_000_000).rounded())) µs (TCP_INFO) + rttvar floored at tcp_rto_min \(TimingTolerance.format(ctx.kernel.rtoMin)) s, rounded up to a tick = \(TimingTolerance.format(rto)) s; TCP_INFO says \(client.rtoSeconds.map { TimingTolerance.format($0) } ?? "?") s")
        return rto
    }
}
