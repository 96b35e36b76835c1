import Foundation
import Synchronization
import TCPLabFault
import TCPLabObserve
import TCPLabProxy
import TCPLabEcho
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
    public let topology: LabTopology
    /// The host the echo client (and code run `inside(.client)`) runs on.
    public let client: LabHost
    /// The host the echo server and faultproxy run on.
    public let server: LabHost
    /// The forwarding host between them (`.router` topology only).
    public let router: LabHost?
    /// The packetdrill-style rule every assertion uses.
    public var tolerance: TimingTolerance
    /// The server's port, this lab's alone in the process (`LabPorts`): the default of every
    /// peer and fault call, so the tracepoints of two labs at once stay apart.
    public let port: UInt16 = LabPorts.next()
    /// How `echoServer`, `echoClient` and `startClient` run the peers (default: in-process).
    public var peers: Peers
    private let network: TwoHostNetwork?
    var processes: [LabProcess] = []
    var faultRuns: [FaultProxyRun] = []
    /// Where each fault run keeps a headers-only pcap for `evidence()` (nil: no pcap unless asked).
    public var evidenceDirectory: String?
    /// The lab a `.tcpLab` test trait made for the running test (TCPLabTesting).
    @TaskLocal public static var current: Lab?
    let lock = NSLock()

    public init(prefix: String = "tcplab-lab", tolerance: TimingTolerance = .forTick(), topology: LabTopology = .loopback,
                peers: Peers = .inProcess) throws {
        self.topology = topology
        self.tolerance = tolerance
        self.peers = peers
        switch topology {
        case .loopback:
            let namespace = try LabNamespace(prefix: prefix)
            let host = LabHost(namespace: namespace, address: "127.0.0.1", interfaces: ["lo"])
            (client, server, router, network) = (host, host, nil, nil)
        case .twoHosts, .router:
            let network = try TwoHostNetwork(prefix: prefix, router: topology == .router)
            (client, server, router) = (network.client, network.server, network.router)
            self.network = network
        }
        hosts.forEach { ActiveLabs.shared.add($0.namespace) }
    }

    deinit { close() }

    /// Whether this process can make labs: network namespaces and nftables need root.
    public static var isPrivileged: Bool { geteuid() == 0 }
    /// What to say when it cannot.
    public static let privilegeHint = "TCPLab labs need root (network namespaces, nftables): run the tests as root, e.g. `sudo swift test`"

    /// The server's namespace: on loopback the lab's only one.
    public var namespace: LabNamespace { server.namespace }
    /// Each host once (on loopback the one namespace), client first.
    public var hosts: [LabHost] { network?.hosts ?? [server] }
    /// The server's address as the client reaches it, and the client's own.
    public var serverAddress: String { server.address }
    public var clientAddress: String { client.address }

    /// The client's link as its kernel has it (`ip -o link show`): its MTU feeds the MSS model.
    public func link() throws -> LinkModel {
        let line = try client.namespace.run(["ip", "-o", "link", "show", "dev", client.interfaces[0]]).standardOutput
        guard let range = line.range(of: " mtu "), let mtu = Int(line[range.upperBound...].prefix { $0.isNumber }) else {
            throw LabError.unexpected("no mtu in `ip -o link show \(client.interfaces[0])`: \(line)")
        }
        return LinkModel(mtu: mtu)
    }

    /// Which end a piece of code or a program runs on.
    public enum End: Sendable { case client, server }
    public func host(_ end: End) -> LabHost { end == .client ? client : server }

    /// The faults installed so far (stopped ones too), in order.
    public var faults: [FaultProxyRun] { lock.withLock { faultRuns } }

    /// Stops every process the lab started and deletes the namespaces. Safe to call twice.
    public func close() {
        let (started, faults) = lock.withLock { (processes, faultRuns) }
        for fault in faults.reversed() { fault.stop() }
        for process in started.reversed() { process.stop(grace: 1) }
        for host in hosts.reversed() {
            host.namespace.delete()
            ActiveLabs.shared.remove(host.namespace)
        }
    }

    // MARK: sysctls and the model

    /// Sets a per-namespace sysctl ("net.ipv4.tcp_syn_retries") on every host and returns what
    /// the server's kernel kept. Set one host's alone through `host(.client).namespace`.
    @discardableResult
    public func sysctl(_ key: String, _ value: Int) throws -> Int {
        var kept = String(value)
        for host in hosts.reversed() { kept = try host.namespace.setSysctl(key, String(value)) }
        return Int(kept) ?? value
    }

    /// Reads a sysctl as the server's namespace sees it.
    public func sysctl(_ key: String) throws -> Int { try namespace.sysctlInt(key) }

    /// Whether this kernel has the sysctl at all.
    public func hasSysctl(_ key: String) -> Bool {
        FileManager.default.fileExists(atPath: "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/"))
    }

    /// The model's inputs, read back from the namespace now.
    /// Read on one thread inside the server's namespace (/proc/sys/net answers for the reader's
    /// namespace), not with a process per sysctl: a lab asks for it dozens of times.
    public var kernel: KernelParameters {
        (try? inside(.server) {
            KernelParameters(reading: { key in
                try? String(contentsOfFile: "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/"), encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            })
        }) ?? KernelParameters(namespace: namespace)
    }

    /// Starts any program on the server's host (or the client's); it is stopped with the lab.
    public func start(_ arguments: [String], on end: End = .server) throws -> LabProcess {
        let process = try host(end).namespace.spawn(arguments)
        lock.withLock { processes.append(process) }
        return process
    }

    /// `ss -Htan` lines inside the namespace for a filter (["state", "time-wait"]).
    public func sockets(_ filter: [String] = []) throws -> [String] {
        try hosts.flatMap { try $0.namespace.run(["ss", "-Htano"] + filter).standardOutput.split(separator: "\n").map(String.init) }
    }

    /// The TIME_WAIT sockets' remaining timers in seconds (/proc/net/tcp, 10 ms resolution), by local port.
    /// `readAtUnixMicroseconds`: when that host's table was read, to compare a timer with a
    /// segment's time (two hosts are read one after the other, milliseconds apart).
    public func timeWaitTimers() throws -> [(localPort: UInt16, remotePort: UInt16, seconds: Double, readAtUnixMicroseconds: Int64)] {
        var timers: [(UInt16, UInt16, Double, Int64)] = []
        for host in hosts {
            // Read on a thread inside the host's namespace, and timed right there: a `cat` process
            // adds milliseconds (hundreds on a loaded machine) between the read and the clock.
            // /proc/thread-self/net, not /proc/self/net: the latter is the main thread's namespace.
            let (table, readAt) = try inside(host) { () throws -> (String, Int64) in
                let text = try String(contentsOfFile: "/proc/thread-self/net/tcp", encoding: .utf8)
                return (text, Int64(Date().timeIntervalSince1970 * 1_000_000))
            }
            for line in table.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when ...
                guard fields.count > 5, fields[3] == "06" else { continue }
                let when = fields[5].split(separator: ":")
                guard when.count == 2, let ticks = Int(when[1], radix: 16),
                      let local = fields[1].split(separator: ":").last.flatMap({ UInt16($0, radix: 16) }),
                      let remote = fields[2].split(separator: ":").last.flatMap({ UInt16($0, radix: 16) }) else { continue }
                timers.append((local, remote, Double(ticks) / 100, readAt))  // clock_t: USER_HZ = 100
            }
        }
        return timers
    }

    /// Runs `body` on a thread inside an end's namespace (the server's by default): sockets it
    /// opens belong to that host, whichever thread uses them later.
    public func inside<T: Sendable>(_ end: End = .server, _ body: @escaping @Sendable () throws -> T) throws -> T {
        try inside(host(end), body)
    }

    /// The same on any of the lab's hosts (the router's too).
    public func inside<T: Sendable>(_ host: LabHost, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let name = host.namespace.name
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
