/// Connection tear-down: the four segments of a close and what each lost one does (one lab per file in Teardown/).
enum TeardownLabs: LabFamily {
    static let all: [LabDefinition] = [teardown, finLost, finAckLost, peerFinLost, lastAckLost, timeWait, timeWaitExhaustion, simultaneousClose, closeWaitLeak]
}
