import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
    static let simultaneousOpen = LabDefinition(
        "simultaneous-open", family: .setup,
        summary: "Both ends connect to each other at once: SYN_SENT → SYN_RECV → ESTABLISHED on both, four SYN segments",
        question: "建立连接同时打开，会发送什么？(both ends open at the same time)"
    ) { ctx in
        let lab = ctx.lab
        // The crossing needs both 1 s SYN timers in one 32 ms timer-wheel bucket: connect() calls
        // that straddle a bucket edge retransmit one SYN a bucket early, and that SYN meets a
        // socket still in SYN_SENT alone. A race of the set-up, not of what is judged: try again
        // (on a fresh client port) up to five times, and say how many it took. Measured over 15
        // rounds (three topologies): the first attempt missed 7 times, a third attempt was needed
        // 3 times and all three missed once, so three attempts were not enough.
        var attempts = 0
        var missed: [String] = []
        var (observation, result, crossed, clientPort) = (Observation(events: [], transitions: []), "", "", UInt16(0))
        repeat {
            if attempts > 0 { missed.append("connect() \(result), crossed \(crossed.isEmpty ? "nothing" : crossed)") }
            attempts += 1
            clientPort = 40000 + UInt16(attempts)
            (observation, result) = try SimultaneousOpen.attempt(ctx, clientPort: clientPort)
            crossed = observation.events.filter { $0.flags.contains("S") && $0.fate == .passed }.map(\.flags)
                .sorted { $0.count < $1.count }.joined(separator: ", ")
        } while attempts < 5 && !(result == "ok ok" && crossed == "S, S, S., S.")
        if attempts > 1 { ctx.fact("attempt \(attempts) of 5; before it: " + missed.joined(separator: "; ")) }
        ctx.show(observation, "\(clientPort) and \(lab.port) connect to each other; both first SYNs lost (not shown), the repeated SYNs cross")
        ctx.expect("both connect() calls succeed", expected: "ok ok", observed: result)
        ctx.expect("SYN-carrying segments that crossed (two SYN, two SYN-ACK)", expected: "S, S, S., S.", observed: crossed)
        ctx.fact("state paths: \(clientPort) \(observation.statePath(.client).joined(separator: " → ")); \(lab.port) \(observation.statePath(.server).joined(separator: " → ")) (SYN_RECV lasts one loopback round trip, often shorter than the 5 ms poll)")
        ctx.notes(say: "同时两端的状态变化都是由CLOSED->SYN_SENT->SYN_RCVD->ESTABLISHED",
                  kernel: "each end answers the other's SYN with a SYN-ACK from SYN_SENT (tcp_rcv_synsent_state_process) and both reach ESTABLISHED", agree: true)
    }
}

/// Two sockets that connect to each other at once (simultaneous-open), each opened on its host.
enum SimultaneousOpen {
    /// Both first SYNs lost: the two retransmission timers expire in the same jiffy, so the
    /// repeated SYNs cross on the wire and each socket meets the other's SYN in SYN_SENT.
    static func attempt(_ ctx: LabContext, clientPort: UInt16) throws -> (Observation, String) {
        let lab = ctx.lab
        // "any": faultproxy names the side that sends to the lab's port the client, so "syn" would only catch one of the two SYNs.
        let dropper = try ctx.faultproxy("any")
        let outcome = OutcomeBox()
        // One socket on each host (on loopback both in the one namespace), then both connect.
        let a = try lab.inside(.client) { try Socket.tcp(.ipv4, nonBlocking: true) }
        let b = try lab.inside(.server) { try Socket.tcp(.ipv4, nonBlocking: true) }
        let addressA = try SocketAddress(host: lab.clientAddress, port: clientPort)
        let addressB = try SocketAddress(host: lab.serverAddress, port: lab.port)
        let thread = Thread {
            do {
                outcome.set(try run(a, at: addressA, b, at: addressB))
            } catch {
                outcome.set("\(error)")
            }
        }
        thread.start()
        // Both SYN_SENT timers were armed within a millisecond; swap the dropper for a watcher
        // before they fire at +1 s, in the same timer-wheel bucket, so the repeated SYNs cross.
        usleep(400_000)
        _ = dropper.stop()
        let fault = try ctx.faultproxy()
        _ = fault.wait(timeout: 2.5) { _ in outcome.value != nil }
        return (fault.stop(), outcome.value ?? "still running")
    }

    static func run(_ a: Socket, at addressA: SocketAddress, _ b: Socket, at addressB: SocketAddress) throws -> String {
        defer { a.close(); b.close() }
        try a.setReuseAddress(true)
        try b.setReuseAddress(true)
        try a.bind(to: addressA)
        try b.bind(to: addressB)
        for (socket, peer) in [(a, addressB), (b, addressA)] {
            do {
                try socket.connect(to: peer)
            } catch {
                if error.errno != .nowInProgress { throw error }
            }
        }
        usleep(1_800_000)
        return "\(outcome(a)) \(outcome(b))"
    }

    static func outcome(_ socket: Socket) -> String {
        let pending: Errno?
        do { pending = try socket.pendingError() } catch { return "\(error)" }
        return pending.map { "\($0)" } ?? "ok"
    }
}

final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ text: String) { lock.withLock { stored = text } }
    var value: String? { lock.withLock { stored } }
}
