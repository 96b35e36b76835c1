import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let fdLimit = LabDefinition(
        "fd-limit", family: .failure,
        summary: "The server hits its open-file limit: accept() fails with EMFILE while handshakes still complete into the backlog",
        question: "文件描述符限制：too many open files (the file descriptor limit)"
    ) { ctx in
        try FdLimit.run(ctx)
    }
}

/// echo-server runs with `--max-files`: holders take every free descriptor, then clients whose
/// handshakes the kernel completes into the accept queue while accept() fails with EMFILE, then
/// a latecomer that meets the full queue. One holder leaves; its descriptor lets the server
/// accept again, and each served client's close frees the next descriptor.
enum FdLimit {
    static let backlog = 2
    /// Low enough that a few connections exhaust it, high enough for the server's own
    /// descriptors (stdio, signalfd, epoll, listener, anything inherited below it).
    static let maxFiles = 10
    /// echo-server's first back-off after EMFILE (AcceptThrottle.initialBackoffNanoseconds): a
    /// freed descriptor must be used before it, because the close itself re-arms the listener.
    static let shortestBackoff = 0.050
    static let holderPorts: UInt16 = 42000
    static let queuedPorts: UInt16 = 42100
    static let latePort: UInt16 = 42200

    static func run(_ ctx: LabContext) throws {
        let lab = ctx.lab
        let syn = ctx.kernel.syn
        let somaxconn = try lab.sysctl("net.core.somaxconn")
        let capacity = AcceptQueueModel.capacity(backlog: backlog, somaxconn: somaxconn)
        let server = try lab.echoServer(["--backlog", "\(backlog)", "--max-files", "\(maxFiles)"])
        guard let free = ServerLog(server.standardOutput).first("listening")?["free_files"] as? Int else {
            throw LabError.unexpected("echo-server reported no free_files: \(server.standardOutput)")
        }
        guard free >= 1 else {
            throw LabSkip("echo-server has no descriptor free under --max-files \(maxFiles) (inherited descriptors take them all)")
        }
        ctx.fact("echo-server --max-files \(maxFiles): soft RLIMIT_NOFILE \(maxFiles), \(free) descriptor numbers free below it (the kernel gives the lowest free number and fails with EMFILE when it is ≥ the limit)")
        let fault = try ctx.faultproxy()
        let before = try ListenCounters.read(lab)

        // 1. Holders take every free descriptor and keep their connections.
        var holders: [LabProcess] = []
        defer { holders.forEach { $0.stop() } }
        for index in 0..<free {
            holders.append(try lab.startClient(["--bind", "\(lab.clientAddress):\(holderPorts + UInt16(index))", "--close", "never"]))
        }
        server.waitForOutput(timeout: 5) { ServerLog($0).count("echoed") >= free }

        // 2. Queued clients: the kernel completes their handshakes; each sends and waits for its echo.
        var queued: [LabProcess] = []
        defer { queued.forEach { $0.stop() } }
        for index in 0..<capacity {
            queued.append(try lab.startClient(["--bind", "\(lab.clientAddress):\(queuedPorts + UInt16(index))"]))
        }
        lab.wait(timeout: 3) { (try? lab.listenerQueue(port: lab.port))?.waiting == capacity }
        let queue = try lab.listenerQueue(port: lab.port)
        server.waitForOutput(timeout: 2) { $0.contains("\"event\":\"error\"") }

        // 3. A latecomer meets the full queue; meanwhile the server must sleep, not spin.
        let lateTimeout = (syn.retransmissions.dropFirst().first ?? syn.retransmissions.first ?? 1) + 0.5
        let cpuBefore = processorSeconds(server.pid)
        let wallStart = Date()
        let late = try lab.echoClient(["--bind", "\(lab.clientAddress):\(latePort)", "--connect-timeout", "\(lateTimeout)s"], timeout: lateTimeout + 5)
        let wall = Date().timeIntervalSince(wallStart)
        let cpu = processorSeconds(server.pid).flatMap { after in cpuBefore.map { after - $0 } }
        let counters = try ListenCounters.read(lab) - before

        // 4. One holder leaves: its descriptor frees up.
        holders[0].stop()
        let results = try queued.map { try lab.clientResult($0, timeout: 10) }
        server.waitForOutput(timeout: 3) { $0.contains("\"event\":\"resumed\"") }
        let queueAfter = try lab.listenerQueue(port: lab.port)
        let observation = fault.stop()
        let log = ServerLog(server.standardOutput)
        ctx.show(observation, "\(free) holders use every descriptor; \(capacity) clients queue; a latecomer (\(latePort)) meets the full queue; holder \(holderPorts) leaves")

        // accept() at the limit.
        let firstError = log.events.firstIndex { $0["event"] as? String == "error" }
        let acceptedBefore = log.events.prefix(firstError ?? log.events.count).filter { $0["event"] as? String == "accepted" }.count
        ctx.expect("connections accepted before the limit", expected: free, observed: acceptedBefore)
        let error = firstError.map { log.events[$0] }
        ctx.expect("accept() fails with", expected: "accept4 EMFILE",
                   observed: error.map { "\($0["call"] as? String ?? "?") \($0["error"] as? String ?? "?")" })
        ctx.expect("error events, from the first EMFILE until the queue was drained (one episode)", expected: 1, observed: log.count("error"))
        ctx.expect("the server survives EMFILE", expected: true, observed: server.isRunning)
        if let cpu, wall > 0 {
            // A server retrying the level-triggered listener would burn a whole core for `wall` seconds.
            ctx.expect("server CPU time while at the limit (no busy loop)", cpu < 0.05 * wall,
                       expected: "< 5 % of \(TimingTolerance.format(wall)) s", observed: "\(TimingTolerance.format(cpu)) s")
        }

        // The kernel meanwhile.
        ctx.expect("accept queue while accept() fails (ss -lt)", expected: ListenerQueue(waiting: capacity, backlog: backlog), observed: queue)
        let queuedConnections = (0..<capacity).compactMap { observation.connection(clientPort: queuedPorts + UInt16($0)) }
        let retried = queuedConnections.map { observation.segments(.syn, from: .client, connection: $0).count - 1 }.reduce(0, +)
        ctx.expect("queued clients' handshakes completed by the kernel (SYN retransmissions among \(capacity))", expected: 0, observed: queuedConnections.count == capacity ? retried : nil)
        let lateSyns = AcceptQueueModel.synsSent(syn, within: lateTimeout)
        let lateFate = AcceptQueueModel.synFate(acceptQueue: capacity, requests: 0, backlog: backlog, somaxconn: somaxconn, syncookies: ctx.kernel.syncookies)
        if let lateConnection = observation.connection(clientPort: latePort) {
            ctx.expect("latecomer: SYN-ACKs from the server (model: \(lateFate.rawValue))", expected: 0,
                       observed: observation.segments(.synack, from: .server, connection: lateConnection).count)
            ctx.expectSchedule(observation, .syn, from: .client, schedule: syn, connection: lateConnection,
                               label: "latecomer's SYN (dropped at the full queue)", limit: lateSyns - 1)
        }
        ctx.expect("latecomer's connect() after \(TimingTolerance.format(lateTimeout)) s", expected: "ETIMEDOUT", observed: late.error ?? "success")
        ctx.fact("TcpExt change while at the limit: \(counters)")
        ctx.expect("ListenOverflows / ListenDrops: the latecomer's \(lateSyns) SYNs", expected: "\(lateSyns)/\(lateSyns)", observed: "\(counters.overflows)/\(counters.drops)")

        // A descriptor frees up.
        let holderFin = observation.connection(clientPort: holderPorts).flatMap {
            observation.segments(.fin, from: .client, connection: $0).first?.timeUnixMicroseconds
        }
        let firstEcho = observation.events.filter { event in
            event.kind == .data && event.from == .server && queuedConnections.contains(event.connection)
        }.first?.timeUnixMicroseconds
        let served = holderFin.flatMap { fin in firstEcho.map { Double($0 - fin) / 1_000_000 } }
        ctx.expect("first queued client echoed after the holder's FIN (the close re-arms accept, no back-off wait)",
                   served.map { $0 >= 0 && $0 < shortestBackoff } ?? false,
                   expected: "< \(TimingTolerance.format(shortestBackoff)) s", observed: served.map { TimingTolerance.format($0) + " s" } ?? "never")
        ctx.expect("queued clients echoed once descriptors free up (each served client's close frees the next)", expected: capacity,
                   observed: results.filter(\.echoOK).count)
        ctx.expect("connections accepted in all", expected: free + capacity, observed: log.count("accepted"))
        ctx.expect("accept queue at the end", expected: 0, observed: queueAfter?.waiting)
        if let resumed = log.first("resumed") {
            ctx.fact("echo-server: accept() failed \(resumed["failures"] as? Int ?? 0)× in an episode of \(Int(resumed["duration_ms"] as? Double ?? 0)) ms (back-off 50 ms doubling to 1 s, or at once when a connection closes), reported once")
        } else {
            ctx.expect("echo-server reports the episode's end", false, expected: "resumed", observed: "nothing")
        }
        ctx.notes(say: "the server hits its open-file limit: accept() fails with EMFILE while the kernel keeps completing handshakes into the backlog",
                  kernel: "accept4 failed with EMFILE before taking a connection off the queue; the kernel completed \(capacity) handshakes (backlog \(backlog) + 1) whose clients connected and sent at once, then dropped the latecomer's SYNs as at any full accept queue (ListenOverflows); each freed descriptor let the server take one more connection off the queue until it was drained",
                  agree: true)
    }

    /// utime + stime of a process in seconds (/proc/PID/stat, clock ticks of USER_HZ = 100).
    static func processorSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name start at field 3 (state); utime and stime are 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / 100
    }
}

/// echo-server's `--json` lines.
struct ServerLog {
    var events: [[String: Any]]

    init(_ text: String) {
        events = text.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    func count(_ event: String) -> Int { events.filter { $0["event"] as? String == event }.count }
    func first(_ event: String) -> [String: Any]? { events.first { $0["event"] as? String == event } }
}
