/// Failures after the connection is up: dead peers, lost data, closed windows, limits (one lab per file in Failure/).
enum FailureLabs: LabFamily {
    static let all: [LabDefinition] = [clientDeadKeepalive, serverDeadRetransmit, peerRestart, dataLost, zeroWindow, fdLimit]
}
