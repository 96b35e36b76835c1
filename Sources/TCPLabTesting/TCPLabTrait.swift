import Foundation
import TCPLab
import Testing

/// `@Test(.tcpLab())`: a fresh lab around the test, handed to its body as `Lab.current`, and
/// removed afterwards. Without root the test is skipped, saying why. When the body throws, or a
/// TCPLab expectation (`expectDropped`, `expectSchedule`) fails, each fault run's ladder, JSON
/// timeline and pcap are attached to the test (`swift test --attachments-path DIR` keeps them).
public struct TCPLabTrait: TestTrait, TestScoping {
    public var topology: LabTopology
    /// Per-namespace sysctls set on every host before the body runs.
    public var sysctls: [String: Int]

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard Lab.isPrivileged else { try Test.cancel(Comment(rawValue: Lab.privilegeHint)) }
        let lab = try Lab(prefix: "tcplab-test", topology: topology)
        let evidence = FileManager.default.temporaryDirectory.appendingPathComponent("tcplab-evidence-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: evidence, withIntermediateDirectories: true)
        lab.evidenceDirectory = evidence
        defer {
            lab.close()
            try? FileManager.default.removeItem(atPath: evidence)
        }
        for (key, value) in sysctls.sorted(by: { $0.key < $1.key }) { try lab.sysctl(key, value) }
        let failures = ExpectationFailures()
        do {
            try await Lab.$current.withValue(lab) {
                try await ExpectationFailures.$current.withValue(failures) { try await function() }
            }
        } catch {
            attach(lab)
            throw error
        }
        if failures.count > 0 { attach(lab) }
    }

    /// Stops the faults (so the pcaps are written) and attaches what they saw.
    private func attach(_ lab: Lab) {
        for run in lab.faults { run.stop() }
        for file in lab.evidence().files { Attachment.record(file.contents, named: file.name) }
    }
}

extension Trait where Self == TCPLabTrait {
    /// A lab for this test: `@Test(.tcpLab(sysctls: ["net.ipv4.tcp_synack_retries": 2]))`, then
    /// `let lab = try #require(Lab.current)` in the body.
    public static func tcpLab(topology: LabTopology = .loopback, sysctls: [String: Int] = [:]) -> Self {
        TCPLabTrait(topology: topology, sysctls: sysctls)
    }
}

/// How many TCPLab expectations failed in the running test, so the trait attaches the evidence.
final class ExpectationFailures: @unchecked Sendable {
    @TaskLocal static var current: ExpectationFailures?
    private let lock = NSLock()
    private var failures = 0
    var count: Int { lock.withLock { failures } }
    func add() { lock.withLock { failures += 1 } }
}
