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
}

extension Lab {
    /// The evidence of every fault run so far (stopped or not).
    public func evidence() -> LabEvidence {
        var files: [LabEvidence.File] = []
        for (index, run) in faults.enumerated() {
            let observation = run.observation()
            let stem = "fault-\(index + 1)-port-\(run.port)"
            files.append(.init(name: stem + ".ladder.txt", contents: Array(observation.ladder(title: run.title).utf8)))
            files.append(.init(name: stem + ".ladder.svg", contents: Array(observation.ladder(.svg, title: run.title).utf8)))
            let lines = observation.events.map { JSONLines.encode(TimelineLine.segment($0)) }
                + observation.transitions.map { JSONLines.encode(TimelineLine.state($0)) }
                + observation.kernelEvents.map { JSONLines.encode(TimelineLine.kernel($0)) }
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
