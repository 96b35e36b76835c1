/// Connection tear-down: the four segments of a close and what each lost one does (one lab per file in Teardown/).
enum TeardownLabs: LabFamily {
    static let all: [LabDefinition] = [teardown, finLost, finAckLost, peerFinLost, lastAckLost, timeWait, timeWaitExhaustion, simultaneousClose, closeWaitLeak]

    /// When an orphaned socket (its owner called close()) retransmits its lost FIN, and when it
    /// gives up (tcp_orphan_retries), from the RTO the client's measured RTT gives.
    static func orphanedFin(_ ctx: LabContext, _ client: ClientResult) -> RetransmissionSchedule {
        EstablishedRetransmissionModel.orphanedFin(rto: rto(ctx, client), parameters: ctx.kernel)
    }
}
