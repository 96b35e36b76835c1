import TCPLabObserve

/// Every lab in docs/scenarios (the seed notes' questions), in the order a person reads them.
public enum LabCatalogue {
    public static let all: [LabDefinition] = SetupLabs.all + TeardownLabs.all + FailureLabs.all

    public static func named(_ name: String) -> LabDefinition? { all.first { $0.name == name } }
}

extension LabContext {
    /// Milliseconds-precision offsets "1.000, 2.000" for facts.
    func list(_ values: [Double]) -> String { values.map { TimingTolerance.format($0) }.joined(separator: ", ") }

    /// Expects each retransmission of `kind` from `sender` one timer (the schedule's timeout)
    /// after the transmission before it as it was observed, packetdrill-style; offsets count from
    /// the first transmission, whose time (µs since the epoch) it returns.
    @discardableResult
    func expectSchedule(_ observation: Observation, _ kind: SegmentKindName, from sender: EndpointName, schedule: RetransmissionSchedule,
                        connection: Int? = nil, label: String, limit: Int? = nil) -> Int64? {
        let sent = observation.segments(kind, from: sender, connection: connection)
        guard let first = sent.first else {
            expect("\(label): first transmission", false, expected: "one", observed: "none")
            return nil
        }
        let observed = observation.offsets(sent, from: first.timeUnixMicroseconds)
        for judgement in tolerance.judgeSchedule(label, transmissions: observed, schedule: schedule, limit: limit) {
            record(judgement, origin: first.timeUnixMicroseconds)
        }
        confirmRetransmissions(observation, sent: sent, kind: kind, sender: sender, label: label)
        return first.timeUnixMicroseconds
    }

    /// Where faultproxy recorded tracepoints: the kernel's own word (tcp_retransmit_skb, or
    /// tcp_retransmit_synack for a SYN-ACK) for every retransmission the timeline shows, on that
    /// connection's socket — the classifier's "(retrans)" is an inference from sequence numbers.
    func confirmRetransmissions(_ observation: Observation, sent: [TimelineEvent], kind: SegmentKindName, sender: EndpointName, label: String) {
        guard let first = sent.first, let last = sent.last,
              observation.kernelEvents.contains(where: { $0.name == .stateChange }) else { return }
        let name: KernelEvent.Name = kind == .synack ? .retransmitSynAck : .retransmit
        let word = observation.kernelEvents.filter {
            $0.name == name && $0.side == sender && $0.local.description == first.source && $0.remote.description == first.destination
                && $0.timeUnixMicroseconds > first.timeUnixMicroseconds && $0.timeUnixMicroseconds <= last.timeUnixMicroseconds + 1000
        }
        expect("\(label): retransmissions the kernel reported (\(name.rawValue))", expected: sent.count - 1, observed: word.count)
    }

    /// Offsets (from `origin`) of the segments of a kind, for anchoring a timer on the last one.
    func lastOffset(_ observation: Observation, _ kind: SegmentKindName, from sender: EndpointName, origin: Int64) -> Double? {
        observation.segments(kind, from: sender).last.map { Double($0.timeUnixMicroseconds - origin) / 1_000_000 }
    }
}

typealias SegmentKindName = TCPLabFault.SegmentKind
typealias EndpointName = TCPLabFault.Endpoint

import TCPLabFault
