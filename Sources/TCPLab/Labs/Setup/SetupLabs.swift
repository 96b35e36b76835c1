/// Connection set-up: the handshake and what each lost segment does to it (one lab per file in Setup/).
enum SetupLabs: LabFamily {
    static let all: [LabDefinition] = [handshake, synLost, synAckLost, ackLost, simultaneousOpen, acceptQueueFull, synQueueFull, oldDuplicateSyn]
}
