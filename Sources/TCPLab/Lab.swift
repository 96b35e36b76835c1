import Foundation
import TCPLabFault
import TCPLabObserve
import TCPLabSystem

/// One lab for a test or a catalogue entry: a fresh network namespace with its sysctls, the
/// peers, a fault, and what the kernel did — judged with the same tolerance rule the catalogue
/// uses. Everything it started goes away with `close()` (or when the lab is released).
///
///     let lab = try Lab()
///     try lab.sysctl("net.ipv4.tcp_synack_retries", 2)
///     let server = try lab.echoServer()
///     let fault = try lab.faultproxy(drop: "synack")
///     let client = try lab.echoClient(["--connect-timeout", "2.5s"])
///     try client.assertFailed("ETIMEDOUT", after: 2.5)
///     try fault.observation().assertDropped(.synack, count: 2, before: 2.5)
public final class Lab: @unchecked Sendable {
    public let namespace: LabNamespace
    /// The packetdrill-style rule every assertion uses.
    public var tolerance: TimingTolerance
    private var processes: [LabProcess] = []
    private let lock = NSLock()

    public init(prefix: String = "tcplab-lab", tolerance: TimingTolerance = .forTick()) throws {
        namespace = try LabNamespace(prefix: prefix)
        self.tolerance = tolerance
        ActiveLabs.shared.add(namespace)
    }

    deinit { close() }

    /// Stops every process the lab started and deletes the namespace. Safe to call twice.
    public func close() {
        let started = lock.withLock { processes }
        for process in started.reversed() { process.stop(grace: 1) }
        namespace.delete()
        ActiveLabs.shared.remove(namespace)
    }

    // MARK: sysctls and the model

    /// Sets a per-namespace sysctl ("net.ipv4.tcp_syn_retries") and returns what the kernel kept.
    @discardableResult
    public func sysctl(_ key: String, _ value: Int) throws -> Int {
        let kept = try namespace.setSysctl(key, String(value))
        return Int(kept) ?? value
    }

    /// Reads a sysctl as the namespace sees it.
    public func sysctl(_ key: String) throws -> Int { try namespace.sysctlInt(key) }

    /// Whether this kernel has the sysctl at all.
    public func hasSysctl(_ key: String) -> Bool {
        FileManager.default.fileExists(atPath: "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/"))
    }

    /// The model's inputs, read back from the namespace now.
    public var kernel: KernelParameters { KernelParameters(namespace: namespace) }

    // MARK: peers

    /// Starts echo-server (with `--json`) and waits until it listens.
    @discardableResult
    public func echoServer(port: UInt16 = 7000, _ options: [String] = []) throws -> LabProcess {
        let server = try start([try LabBinaries.path("echo-server"), "--json", "--port", String(port)] + options)
        try server.awaitListening()
        return server
    }

    /// Runs echo-client (with `--json`) to completion and returns its report.
    public func echoClient(port: UInt16 = 7000, _ options: [String] = [], timeout: Double = 600) throws -> ClientResult {
        let started = Date()
        let result = try namespace.run([try LabBinaries.path("echo-client"), "--json", "--port", String(port)] + options,
                                       timeout: timeout, check: false)
        return ClientResult(status: result.status, standardOutput: result.standardOutput, standardError: result.standardError,
                            wallSeconds: Date().timeIntervalSince(started), tolerance: tolerance)
    }

    /// Starts echo-client in the background (for clients that hold, or several at once).
    public func startClient(port: UInt16 = 7000, _ options: [String] = []) throws -> LabProcess {
        try start([try LabBinaries.path("echo-client"), "--json", "--port", String(port)] + options)
    }

    /// The result of a client started with `startClient`, once it has exited.
    public func clientResult(_ process: LabProcess, timeout: Double = 600) throws -> ClientResult {
        guard let status = process.wait(timeout: timeout) else { throw LabError.timedOut("echo-client still running after \(timeout) s") }
        return ClientResult(status: status, standardOutput: process.standardOutput, standardError: process.standardError,
                            wallSeconds: 0, tolerance: tolerance)
    }

    /// Starts faultproxy in transparent mode on `port`, with the timeline and socket states on,
    /// and waits until its rules are in. `drop` are its `--drop` specs ("synack:2"); none only watches.
    public func faultproxy(drop: String..., from: Endpoint? = nil, port: UInt16 = 7000, options: [String] = [],
                           pcap: String? = nil) throws -> FaultProxyRun {
        try faultproxy(drops: drop, from: from, port: port, options: options, pcap: pcap)
    }

    public func faultproxy(drops: [String], from: Endpoint? = nil, port: UInt16 = 7000, options: [String] = [],
                           pcap: String? = nil) throws -> FaultProxyRun {
        var arguments = [try LabBinaries.path("faultproxy"), "--target", String(port), "--timeline", "json", "--states",
                         "--log-group", String(port)]
        for spec in drops { arguments += ["--drop", spec] }
        if let from { arguments += ["--from", from.rawValue] }
        if let pcap { arguments += ["--pcap", pcap] }
        let process = try start(arguments + options)
        try process.awaitRulesInstalled()
        return FaultProxyRun(process: process, tolerance: tolerance)
    }

    /// Starts any program inside the namespace; it is stopped with the lab.
    public func start(_ arguments: [String]) throws -> LabProcess {
        let process = try namespace.spawn(arguments)
        lock.withLock { processes.append(process) }
        return process
    }

    /// `ss -Htan` lines inside the namespace for a filter (["state", "time-wait"]).
    public func sockets(_ filter: [String] = []) throws -> [String] {
        try namespace.run(["ss", "-Htano"] + filter).standardOutput.split(separator: "\n").map(String.init)
    }

    /// The TIME_WAIT sockets' remaining timers in seconds (/proc/net/tcp, 10 ms resolution), by local port.
    public func timeWaitTimers() throws -> [(localPort: UInt16, remotePort: UInt16, seconds: Double)] {
        var timers: [(UInt16, UInt16, Double)] = []
        for line in try namespace.run(["cat", "/proc/net/tcp"]).standardOutput.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when ...
            guard fields.count > 5, fields[3] == "06" else { continue }
            let when = fields[5].split(separator: ":")
            guard when.count == 2, let ticks = Int(when[1], radix: 16),
                  let local = fields[1].split(separator: ":").last.flatMap({ UInt16($0, radix: 16) }),
                  let remote = fields[2].split(separator: ":").last.flatMap({ UInt16($0, radix: 16) }) else { continue }
            timers.append((local, remote, Double(ticks) / 100))  // clock_t: USER_HZ = 100
        }
        return timers
    }

    /// A counter from /proc/net/netstat or /proc/net/snmp inside the namespace ("TcpExt", "ListenOverflows").
    public func counter(_ group: String, _ name: String) throws -> Int {
        for file in ["/proc/net/netstat", "/proc/net/snmp"] {
            let lines = try namespace.run(["cat", file]).standardOutput.split(separator: "\n")
            var index = 0
            while index + 1 < lines.count {
                let names = lines[index].split(separator: " ")
                let values = lines[index + 1].split(separator: " ")
                if names.first == "\(group):", let column = names.firstIndex(where: { $0 == name }), column < values.count {
                    return Int(values[column]) ?? 0
                }
                index += 2
            }
        }
        throw LabError.unexpected("no counter \(group) \(name) in /proc/net")
    }

    /// Runs `body` on a thread inside the namespace: sockets it opens belong to the lab's network.
    public func inside<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let name = namespace.name
        let box = ResultBox<T>()
        let thread = Thread {
            do {
                try NetworkNamespace.enter(named: name)
                box.set(.success(try body()))
            } catch {
                box.set(.failure(error))
            }
        }
        thread.start()
        return try box.wait().get()
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
    @discardableResult
    public func wait(timeout: Double, until condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<T, any Error>?
    func set(_ value: Result<T, any Error>) {
        condition.lock()
        result = value
        condition.signal()
        condition.unlock()
    }
    func wait() -> Result<T, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}

/// Every lab namespace alive in this process, so Ctrl-C can remove them all.
public final class ActiveLabs: @unchecked Sendable {
    public static let shared = ActiveLabs()
    private let lock = NSLock()
    private var namespaces: [ObjectIdentifier: LabNamespace] = [:]

    func add(_ namespace: LabNamespace) { lock.withLock { namespaces[ObjectIdentifier(namespace)] = namespace } }
    func remove(_ namespace: LabNamespace) { lock.withLock { namespaces[ObjectIdentifier(namespace)] = nil } }

    /// Deletes every namespace still alive (killing what runs inside). For signal handlers.
    public func deleteAll() {
        let alive = lock.withLock { Array(namespaces.values) }
        for namespace in alive { namespace.delete() }
        lock.withLock { namespaces.removeAll() }
    }
}
