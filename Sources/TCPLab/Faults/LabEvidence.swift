import Foundation
import TCPLabObserve
import TCPLabSystem

/// What a lab saw, as files a failing test can attach: each fault run's ladder (text and SVG),
/// its JSON timeline, and its pcap when the lab keeps one (`evidenceDirectory`).
public struct LabEvidence: Sendable {
    public struct File: Sendable {
        public var name: String
        public var contents: [UInt8]
    }

    public var files: [File]

    /// "fault-2-port-7016": the names of the n-th fault run's files (its pcap's too).
    static func stem(serial: Int, port: UInt16) -> String { "fault-\(serial)-port-\(port)" }
}

extension Lab {
    /// The evidence of every fault run so far (stopped or not).
    public func evidence() -> LabEvidence {
        var files: [LabEvidence.File] = []
        for (index, run) in faults.enumerated() {
            let observation = run.observation()
            let stem = LabEvidence.stem(serial: index + 1, port: run.port)
            files.append(.init(name: stem + ".ladder.txt", contents: Array(observation.ladder(title: run.title).utf8)))
            files.append(.init(name: stem + ".ladder.svg", contents: Array(observation.ladder(.svg, title: run.title).utf8)))
            let lines = observation.events.map { JSONLines.encode(TimelineRecord.segment($0)) }
                + observation.transitions.map { JSONLines.encode(TimelineRecord.state($0.record)) }
                + observation.kernelEvents.map { JSONLines.encode(TimelineRecord.kernel($0.record)) }
            files.append(.init(name: stem + ".timeline.jsonl", contents: Array(lines.map { $0 + "\n" }.joined().utf8)))
            if let pcap = run.pcapPath, let data = FileManager.default.contents(atPath: pcap) {
                files.append(.init(name: stem + ".pcap", contents: Array(data)))
            }
        }
        return LabEvidence(files: files)
    }
}

extension FaultProxyRun {
    /// "drop synack:2 on port 7000"
    var title: String {
        (faults.isEmpty ? "watch" : faults.map(\.description).joined(separator: ", ")) + " on port \(port)"
    }
}
