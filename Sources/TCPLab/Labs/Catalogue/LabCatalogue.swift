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
        for index in schedule.retransmissions.prefix(limit ?? .max).indices {
            let previous = index == 0 ? "the first" : "retransmission \(index)"
            expectTime("\(label) retransmission \(index + 1) (\(TimingTolerance.format(schedule.timeouts[index])) s after \(previous))",
                       after: index < observed.count ? observed[index] : nil, timer: schedule.timeouts[index],
                       observed: index + 1 < observed.count ? observed[index + 1] : nil, origin: first.timeUnixMicroseconds)
        }
        return first.timeUnixMicroseconds
    }

    /// Offsets (from `origin`) of the segments of a kind, for anchoring a timer on the last one.
    func lastOffset(_ observation: Observation, _ kind: SegmentKindName, from sender: EndpointName, origin: Int64) -> Double? {
        observation.segments(kind, from: sender).last.map { Double($0.timeUnixMicroseconds - origin) / 1_000_000 }
    }
}

typealias SegmentKindName = TCPLabFault.SegmentKind
typealias EndpointName = TCPLabFault.Endpoint

import TCPLabFault
