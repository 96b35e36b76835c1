import Foundation
import TCPLabFault
import TCPLabObserve

/// What a lab's body works with: its `Lab` (namespace, peers, faults), the kernel parameters
/// before and after the profile was applied, and the verdict it builds up.
public final class LabContext: @unchecked Sendable {
    public let lab: Lab
    public let profile: LabProfile
    /// The namespace's values before the profile touched them: the kernel's own defaults.
    public let defaults: KernelParameters
    let pcapDirectory: String?
    let name: String
    private(set) var checks: [LabCheck] = []
    private(set) var claims: [LabClaim] = []
    private(set) var ladders: [LabLadder] = []
    private(set) var facts: [String] = []
    private var pcapCount = 0

    init(lab: Lab, name: String, profile: LabProfile, defaults: KernelParameters, pcapDirectory: String?) {
        self.lab = lab
        self.name = name
        self.profile = profile
        self.defaults = defaults
        self.pcapDirectory = pcapDirectory
    }

    public var fast: Bool { profile == .fast }
    /// The model's inputs as the namespace reports them now.
    public var kernel: KernelParameters { lab.kernel }
    public var tolerance: TimingTolerance { lab.tolerance }

    // MARK: running

    /// faultproxy on `port` with the timeline and states on; a pcap per run with `--pcap DIR`.
    public func faultproxy(_ drops: String..., from: Endpoint? = nil, port: UInt16? = nil) throws -> FaultProxyRun {
        try faultproxy(drops: drops, from: from, port: port)
    }

    /// The opening most labs share, in the order they need it: an echo server with `server`
    /// options listening on `port`, faultproxy on that port losing `drops` (none: only watching),
    /// then one echo client with `client` options run to completion through it. faultproxy is
    /// still capturing: the lab waits for what comes after the client's run and stops it.
    public func echoThroughFault(port: UInt16? = nil, server: [String] = [], dropping drops: String...,
                                 client: [String] = []) throws -> (fault: FaultProxyRun, client: ClientResult) {
        try lab.echoServer(port: port, server)
        let fault = try faultproxy(drops: drops, port: port)
        return (fault, try lab.echoClient(port: port, client))
    }

    private func faultproxy(drops: [String], from: Endpoint? = nil, port: UInt16?) throws -> FaultProxyRun {
        var pcap: String?
        if let pcapDirectory {
            pcapCount += 1
            pcap = "\(pcapDirectory)/\(name)-\(pcapCount).pcap"
        }
        return try lab.faultproxy(drops: drops, from: from, port: port, pcap: pcap)
    }

    /// Skips the lab when the model says it would take longer than the profile allows.
    public func requireTime(_ seconds: Double, for what: String) throws {
        if seconds > profile.budgetSeconds {
            throw LabSkip("\(what) takes \(Int(seconds)) s with these timers (over the \(Int(profile.budgetSeconds)) s budget of the \(profile.rawValue) profile)")
        }
    }

    /// How long to wait for an event the model expects `expected` seconds from now: the latest
    /// the judge allows for its `timers`, plus `margin`, so an event that is late but within
    /// tolerance is still seen (a 60 s timer alone may fire 2 s late: timer-wheel level 3).
    public func waitLimit(_ expected: Double, timers: [Double], margin: Double = 1.5) -> Double {
        max(0, expected) + tolerance.allowance(timers: timers) + margin
    }

    // MARK: the verdict

    /// A timing, judged by the one judge (`TimingTolerance.judge`): `observed` must lie in the
    /// window the `timers` leading to it from its anchor allow. Prefer `expectTime(_:after:timer:...)`:
    /// a chain of several timers is only for an event whose intermediate steps were not seen.
    /// `resolution`: how coarse the observation itself is (a 10 ms /proc timer, a 5 ms poll).
    /// `origin`: what both offsets count from (µs since the epoch), so the ladder picture can show the check.
    /// How late a sock_diag poll may see a socket change: one poll interval (5 ms) plus one
    /// late wake-up of the polling loop (its epoll timeout is not a deadline on a busy machine).
    public static let pollResolution = 0.010

    public func expectTime(_ what: String, expected: Double, observed: Double?, timers: [Double], resolution: Double = 0,
                           origin: Int64? = nil) {
        record(tolerance.judge(what, expected: expected, observed: observed, timers: timers, resolutionSeconds: resolution), origin: origin)
    }

    /// A timing judged from the event that armed its timer, packetdrill-style: due `timer` after
    /// `anchor` (an observed offset from the same origin as `observed`; nil: not seen, the check fails).
    public func expectTime(_ what: String, after anchor: Double?, timer: Double, observed: Double?, resolution: Double = 0,
                           origin: Int64? = nil) {
        record(tolerance.judge(what, after: anchor, timer: timer, observed: observed, resolutionSeconds: resolution), origin: origin)
    }

    func record(_ judgement: TimingJudgement, origin: Int64?) {
        checks.append(LabCheck(what: judgement.what, expected: "+" + Self.seconds(judgement.expected),
                               observed: judgement.observed.map { "+" + Self.seconds($0) } ?? "never",
                               tolerance: judgement.window.description, passed: judgement.passed, expectedSeconds: judgement.expected,
                               observedSeconds: judgement.observed, originUnixMicroseconds: origin,
                               toleranceSeconds: judgement.window.late, earlyToleranceSeconds: judgement.window.early,
                               gapSeconds: judgement.gapSeconds, failure: judgement.failure))
    }

    /// An exact comparison.
    public func expect<T: Equatable & CustomStringConvertible>(_ what: String, expected: T, observed: T?) {
        checks.append(LabCheck(what: what, expected: expected.description, observed: observed?.description ?? "nothing",
                               tolerance: nil, passed: observed == expected))
    }

    /// A condition, described by what was expected and what was seen.
    public func expect(_ what: String, _ holds: Bool, expected: String, observed: String) {
        checks.append(LabCheck(what: what, expected: expected, observed: observed, tolerance: nil, passed: holds))
    }

    /// What the seed notes claim, and what the kernel does.
    public func notes(say: String, kernel: String, agree: Bool) {
        claims.append(LabClaim(notesSay: say, kernelDoes: kernel, agrees: agree))
    }

    /// A fact worth showing (ISNs, options, counters).
    public func fact(_ text: String) { facts.append(text) }

    /// Adds the ladder of an observation.
    public func show(_ observation: Observation, _ title: String) {
        ladders.append(LabLadder(title: title, text: observation.ladder(), observation: observation))
    }

    /// "1.234 s" style seconds with millisecond precision.
    static func seconds(_ value: Double) -> String {
        TimingTolerance.format(value) + " s"
    }
}

/// Thrown by a lab that cannot run here; the lab is reported SKIPPED with this reason.
public struct LabSkip: Error, CustomStringConvertible {
    public var description: String
    public init(_ reason: String) { description = reason }
}
