/// The verdict of one lab run.
public struct LabReport: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case passed = "PASS", failed = "FAIL", skipped = "SKIP" }

    public var name: String
    public var profile: LabProfile
    /// Where the ends ran (loopback, two-hosts, router); absent in reports from before topologies.
    public var topology: LabTopology?
    public var status: Status
    /// Why it was skipped, or the error that stopped it.
    public var reason: String?
    /// The sysctls as read back from the namespace after the profile was applied ("tcp_syn_retries=2").
    public var sysctls: [String]
    public var checks: [LabCheck]
    public var claims: [LabClaim]
    public var ladders: [LabLadder]
    public var facts: [String]
    public var seconds: Double

    public var passed: Bool { status != .failed }
}

/// One expected event: expected and observed side by side, and whether it held.
public struct LabCheck: Sendable, Codable {
    public var what: String
    public var expected: String
    public var observed: String
    /// "−0.004/+0.046 s" for timings (how early and how late the judge allows); nil for exact comparisons.
    public var tolerance: String?
    public var passed: Bool
    /// Offsets in seconds, for JSON readers (nil for non-timing checks).
    public var expectedSeconds: Double?
    public var observedSeconds: Double?
    /// What the offsets count from (µs since the epoch, like the timeline's `unix_us`), when the lab
    /// measured them from a segment or state it saw; then the check can be drawn on the ladder.
    public var originUnixMicroseconds: Int64? = nil
    /// How late the event may be, in seconds (nil for non-timing checks).
    public var toleranceSeconds: Double? = nil
    /// How early it may be (a tick: timers never fire early).
    public var earlyToleranceSeconds: Double? = nil
    /// The timers from the event's anchor (the one that armed its timer) to it: what the tolerance is a fraction of.
    public var gapSeconds: Double? = nil
    /// The judge's sentence when the check failed.
    public var failure: String? = nil
}

/// Where the seed notes say something about this behaviour, and what the kernel does.
public struct LabClaim: Sendable, Codable {
    public var notesSay: String
    public var kernelDoes: String
    /// false when the kernel contradicts the notes.
    public var agrees: Bool
}

/// A ladder diagram of one phase of the lab.
public struct LabLadder: Sendable, Codable {
    public var title: String
    public var text: String
    /// The segments and states behind the ladder, for pictures (SVG, Mermaid, the HTML report);
    /// not in the JSON report, which carries the text.
    public var observation: Observation? = nil

    enum CodingKeys: String, CodingKey { case title, text }
}
