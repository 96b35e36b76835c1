/// Connection tear-down: the four segments of a close and what each lost one does (one lab per file in Teardown/).
enum TeardownLabs: LabFamily {
    static let all: [LabDefinition] = [teardown, finLost, finAckLost, peerFinLost, lastAckLost, timeWait, timeWaitExhaustion, simultaneousClose, closeWaitLeak]

    /// When an orphaned socket (its owner called close()) retransmits its lost FIN, and when it
    /// gives up (tcp_orphan_retries), from the RTO the client's measured RTT gives.
    static func orphanedFin(_ ctx: LabContext, _ client: ClientResult) -> RetransmissionSchedule {
        EstablishedRetransmissionModel.orphanedFin(rto: rto(ctx, client), parameters: ctx.kernel)
    }

    /// tcp_fin_timeout in seconds, once the run is known to have time to wait it out `times`
    /// times plus `margin` s (LabSkip otherwise).
    static func requireFinTimeout(_ ctx: LabContext, times: Double = 1, margin: Double) throws -> Double {
        let finTimeout = Double(ctx.kernel.finTimeout)
        try ctx.requireTime(finTimeout * times + margin, for: "waiting out tcp_fin_timeout")
        return finTimeout
    }
}
