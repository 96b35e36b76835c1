/// Every lab in docs/scenarios (the seed notes' questions), in the order a person reads them.
public enum LabCatalogue {
    public static let all: [LabDefinition] = SetupLabs.all + TeardownLabs.all + FailureLabs.all

    public static func named(_ name: String) -> LabDefinition? { all.first { $0.name == name } }
}

extension LabContext {
    /// Milliseconds-precision offsets "1.000, 2.000" for facts.
    func list(_ values: [Double]) -> String { values.map { TimingTolerance.format($0) }.joined(separator: ", ") }

    /// Expects each retransmission of `kind` from `sender` at the schedule's offsets, counted
    /// from the first transmission; returns that first transmission's time (µs since the epoch).
    @discardableResult
    func expectSchedule(_ observation: Observation, _ kind: SegmentKindName, from sender: EndpointName, schedule: RetransmissionSchedule,
                        connection: Int? = nil, label: String, limit: Int? = nil) -> Int64? {
        let sent = observation.segments(kind, from: sender, connection: connection)
        guard let first = sent.first else {
            expect("\(label): first transmission", false, expected: "one", observed: "none")
            return nil
        }
        let observed = observation.offsets(Array(sent.dropFirst()), from: first.timeUnixMicroseconds)
        for (index, at) in schedule.retransmissions.prefix(limit ?? .max).enumerated() {
            expectTime("\(label) retransmission \(index + 1)", expected: at, observed: index < observed.count ? observed[index] : nil,
                       timers: schedule.timeouts(untilRetransmission: index), origin: first.timeUnixMicroseconds)
        }
        return first.timeUnixMicroseconds
    }
}

typealias SegmentKindName = TCPLabFault.SegmentKind
typealias EndpointName = TCPLabFault.Endpoint

import TCPLabFault
