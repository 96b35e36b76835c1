import Foundation

/// Runs catalogue labs: a fresh namespace each, the profile's sysctls, the lab's body, and the
/// verdict. Whatever a lab made is removed before the next one starts.
public struct LabRunner: Sendable {
    public var profile: LabProfile
    public var pcapDirectory: String?
    public var topology: LabTopology

    public init(profile: LabProfile = .fast, pcapDirectory: String? = nil, topology: LabTopology = .loopback) {
        self.profile = profile
        self.pcapDirectory = pcapDirectory
        self.topology = topology
    }

    public func run(_ definition: LabDefinition) -> LabReport {
        let started = Date()
        var report = LabReport(name: definition.name, profile: profile, topology: topology, status: .passed, reason: nil, sysctls: [], checks: [],
                               claims: [], ladders: [], facts: [], seconds: 0)
        let lab: Lab
        do {
            // Executables: labs kill their server (SIGKILL) and lower its open-file limit, which a peer on a thread cannot have.
            lab = try Lab(prefix: "tcplab-\(definition.name.prefix(12))", topology: topology, peers: .executables)
        } catch {
            report.status = error is LabError && "\(error)".contains("root") ? .skipped : .failed
            report.reason = "\(error)"
            return report
        }
        defer { lab.close() }
        let defaults = lab.kernel
        let context = LabContext(lab: lab, name: definition.name, profile: profile, defaults: defaults, pcapDirectory: pcapDirectory)
        do {
            var settings = definition.sysctls
            if profile == .fast { settings = LabProfile.fastSysctls + definition.fastSysctls + settings }
            for (key, value) in settings where lab.hasSysctl(key) {
                let kept = try lab.sysctl(key, value)
                report.sysctls.append("\(key.split(separator: ".").last ?? "")=\(kept)")
            }
            try definition.body(context)
        } catch let skip as LabSkip {
            report.status = .skipped
            report.reason = skip.description
        } catch {
            report.status = .failed
            report.reason = "\(error)"
        }
        report.checks = context.checks
        report.claims = context.claims
        report.ladders = context.ladders
        report.facts = context.facts
        if report.status == .passed, report.checks.contains(where: { !$0.passed }) { report.status = .failed }
        if report.status == .passed, report.checks.isEmpty {
            report.status = .failed
            report.reason = "the lab judged nothing"
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
