import Foundation
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem
import SystemPackage
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Runs a real TCP connection on a private namespace's loopback, logs it with an NFLOG rule,
/// and checks the timeline, sock_diag and pcap against the kernel and tcpdump.
final class ObserveIntegrationTests: XCTestCase {
    private var namespace: String!
    private let port: UInt16 = 5555
    private let group: UInt16 = 7

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) for network namespaces and NFLOG") }
        namespace = "tcplab-observe-\(getpid())-\(UInt32.random(in: 0...UInt32.max) % 100_000)"
        try run("/usr/sbin/ip", "netns", "add", namespace)
        try run("/usr/sbin/ip", "-n", namespace, "link", "set", "lo", "up")
        // The rule under test: log every segment of the port at prerouting, delivered at once.
        try run("/usr/sbin/ip", "netns", "exec", namespace, "nft", "-f", "-", input: """
            table inet tcplabobserve {
                chain pre {
                    type filter hook prerouting priority -300;
                    tcp dport \(port) log prefix "tcplab pass" group \(group) queue-threshold 1
                    tcp sport \(port) log prefix "tcplab pass" group \(group) queue-threshold 1
                }
            }
            """)
    }

    override func tearDownWithError() throws {
        if let namespace { _ = try? run("/usr/sbin/ip", "netns", "delete", namespace) }
    }

    func testTimelineMatchesTcpdumpAndPcapReadsBack() throws {
        let capture = try NamespaceCapture(namespace: namespace, group: group, port: port)
        let tcpdumpFile = NSTemporaryDirectory() + "tcplab-observe-\(getpid()).tcpdump.pcap"
        let tcpdump = try startTcpdump(writingTo: tcpdumpFile)
        try runConnection(host: "127.0.0.1")
        Thread.sleep(forTimeInterval: 0.1)
        tcpdump.interrupt()
        tcpdump.waitUntilExit()
        let result = try capture.finish()
        XCTAssertNil(result.error, "reader failed: \(String(describing: result.error))")
        XCTAssertEqual(result.overflows, 0)

        // Every record carries the kernel's timestamp and parses.
        XCTAssertFalse(result.records.isEmpty)
        XCTAssertTrue(result.records.allSatisfy { $0.timestampMicroseconds != nil }, "records without NFULA_TIMESTAMP")
        XCTAssertTrue(result.records.allSatisfy { $0.prefix == "tcplab pass" && $0.family == 2 && $0.hwProtocol == 0x0800 })
        let segments = try result.records.map { try CapturedSegment(record: $0) }
        let events = TimelineBuilder.build(segments)
        let kinds = events.map(\.kind)
        print("timeline:\n" + events.map(\.summary).joined(separator: "\n"))
        print(LadderView().render(events: events, transitions: result.transitions))

        XCTAssertEqual(Array(kinds.prefix(3)), [.syn, .synack, .handshakeAck])
        XCTAssertEqual(events.first?.from, .client)
        XCTAssertEqual(events.first?.maximumSegmentSizeBytes, 65495)
        XCTAssertTrue(kinds.contains(.data))
        let fin = try XCTUnwrap(kinds.firstIndex(of: .fin))
        let peerFin = try XCTUnwrap(kinds.firstIndex(of: .peerFin))
        let lastAck = try XCTUnwrap(kinds.firstIndex(of: .lastAck))
        XCTAssertLessThan(fin, peerFin)
        XCTAssertLessThan(peerFin, lastAck)
        XCTAssertEqual(events[fin].from, .client)
        XCTAssertEqual(events[peerFin].from, .server)
        XCTAssertFalse(events.contains { $0.retransmission })
        let data = events.filter { $0.kind == .data }
        XCTAssertEqual(data.map(\.payloadBytes), [5, 5])
        XCTAssertEqual(data.map(\.from), [.client, .server])
        XCTAssertEqual(data.first?.sequenceRelative, 1)

        // Segment for segment against tcpdump -i lo of the same run.
        let dumped = try tcpdumpLines(file: tcpdumpFile)
        XCTAssertEqual(dumped.count, segments.count, "tcpdump saw \(dumped.count) segments, NFLOG \(segments.count)")
        var differences: [Int64] = []
        for (line, segment) in zip(dumped, segments) {
            let parsed = try XCTUnwrap(TcpdumpLine(line), line)
            XCTAssertEqual(parsed.flags, "[\(segment.header.flags)]", line)
            if let sequence = parsed.sequence { XCTAssertEqual(sequence, segment.header.sequence, line) }
            XCTAssertEqual(parsed.length, segment.header.payloadLength, line)
            differences.append(abs(parsed.timestampMicroseconds - segment.timestampMicroseconds))
        }
        let sorted = differences.sorted()
        guard !sorted.isEmpty else { return XCTFail("nothing to compare") }
        print("observe: tcpdump vs NFLOG timestamps over \(sorted.count) segments: median \(sorted[sorted.count / 2]) µs, max \(sorted.last ?? -1) µs")
        XCTAssertLessThanOrEqual(sorted.last ?? .max, 1000)

        try assertOurPcapReadsBack(segments, like: dumped)
        try? FileManager.default.removeItem(atPath: tcpdumpFile)

        // The socket states the watcher saw.
        let client = result.transitions.filter { $0.side == .client }.compactMap(\.state)
        let server = result.transitions.filter { $0.side == .server }.compactMap(\.state)
        print("transitions:\n" + result.transitions.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(client.contains(.established))
        XCTAssertEqual(client.last, .timeWait)
        XCTAssertTrue(server.contains(.closeWait), "server states \(server)")

        // TIME_WAIT on the active closer, for about 60 s.
        let timeWait = try XCTUnwrap(result.finalSockets.first { $0.state == .timeWait }, "\(result.finalSockets)")
        XCTAssertEqual(timeWait.remote.port, port)
        XCTAssertEqual(timeWait.timer, .timeWait)
        XCTAssertGreaterThan(timeWait.expiresMilliseconds, 55_000)
        XCTAssertLessThanOrEqual(timeWait.expiresMilliseconds, 60_000)
        print("observe: TIME_WAIT \(timeWait.local) -> \(timeWait.remote) \(timeWait.timer) expires \(timeWait.expiresMilliseconds) ms")
        XCTAssertFalse(result.finalSockets.contains { $0.local.port == port && $0.state != .listen })
    }

    /// Our pcap of the run reads back with tcpdump: the same segments as tcpdump's own capture.
    func assertOurPcapReadsBack(_ segments: [CapturedSegment], like dumped: [String]) throws {
        var pcap = PcapWriter()
        pcap.append(segments)
        let ours = NSTemporaryDirectory() + "tcplab-observe-\(getpid()).ours.pcap"
        try pcap.write(toFile: ours)
        let readBack = try tcpdumpLines(file: ours)
        XCTAssertEqual(readBack.count, segments.count)
        for (mine, theirs) in zip(readBack, dumped) {
            // Same text apart from the timestamp (and tcpdump's "IP" vs raw link type: both print "IP").
            XCTAssertEqual(mine.split(separator: " ").dropFirst().joined(separator: " "),
                           theirs.split(separator: " ").dropFirst().joined(separator: " "))
        }
        try? FileManager.default.removeItem(atPath: ours)
    }

    func testIPv6TimelineAndSecondBindFails() throws {
        let capture = try NamespaceCapture(namespace: namespace, group: group, port: port)
        // One listener per group per namespace: a second bind is refused.
        let group = self.group
        let second = NamespaceThread.run(namespace: namespace) { () -> SystemCallError? in
            do throws(SystemCallError) { _ = try NFLogReader(group: group); return nil } catch { return error }
        }
        XCTAssertEqual(try second.get()?.errno, .notPermitted)
        try runConnection(host: "::1")
        let result = try capture.finish()
        XCTAssertTrue(result.records.allSatisfy { $0.family == 10 && $0.hwProtocol == 0x86DD })
        // No tcpdump in this run: the kernel still stamps every logged packet.
        XCTAssertTrue(result.records.allSatisfy { $0.timestampMicroseconds != nil })
        let events = TimelineBuilder.build(try result.records.map { try CapturedSegment(record: $0) })
        XCTAssertEqual(Array(events.map(\.kind).prefix(3)), [.syn, .synack, .handshakeAck])
        XCTAssertEqual(events.first?.source.hasPrefix("[::1]:"), true)
        XCTAssertEqual(events.first?.maximumSegmentSizeBytes, 65476)
    }

    // MARK: - Helpers

    /// A client/server exchange on the namespace's loopback, bounded by socket timeouts:
    /// connect, 5 bytes each way, the client closes first, the server 50 ms later.
    private func runConnection(host: String) throws {
        let script = """
            import socket, sys, threading, time
            host, port = sys.argv[1], int(sys.argv[2])
            family = socket.AF_INET6 if ':' in host else socket.AF_INET
            srv = socket.socket(family, socket.SOCK_STREAM)
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind((host, port)); srv.listen(1); srv.settimeout(5)
            def serve():
                conn, _ = srv.accept(); conn.settimeout(5)
                conn.sendall(conn.recv(100))
                while conn.recv(100): pass
                time.sleep(0.05); conn.close()
            worker = threading.Thread(target=serve); worker.start()
            cl = socket.create_connection((host, port), timeout=5)
            time.sleep(0.05); cl.sendall(b'hello'); cl.recv(100)
            time.sleep(0.05); cl.close()
            worker.join(5); time.sleep(0.05)
            """
        try run("/usr/sbin/ip", "netns", "exec", namespace, "/usr/bin/python3", "-c", script, host, String(port))
    }

    private func startTcpdump(writingTo file: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace, "tcpdump", "--immediate-mode", "-n", "-i", "lo", "-U", "-w", file, "tcp port \(port)"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait (bounded) for "listening on lo". --immediate-mode: with TPACKET_V3 block buffering
        // tcpdump on lo in a fresh namespace had captured nothing by the time it was interrupted.
        var seen = Data()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, !String(decoding: seen, as: UTF8.self).contains("listening") {
            seen += errors.fileHandleForReading.availableData
        }
        return process
    }

    private func tcpdumpLines(file: String) throws -> [String] {
        try run("/usr/bin/tcpdump", "-n", "-tt", "-S", "-r", file)
            .split(separator: "\n").map(String.init).filter { $0.contains(" IP") }
    }

    @discardableResult
    private func run(_ arguments: String..., input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw XCTSkip("\(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(errorText)")
        }
        return text
    }
}

/// One line of `tcpdump -n -tt -S -r`:
/// "1718000000.123456 IP 127.0.0.1.41234 > 127.0.0.1.5555: Flags [S], seq 123, win 65495, options [...], length 0".
struct TcpdumpLine {
    var timestampMicroseconds: Int64
    var flags: String
    /// Absent on pure ACKs, where tcpdump prints only the ack.
    var sequence: UInt32?
    var length: Int

    init?(_ line: String) {
        let words = line.split(separator: " ")
        guard let stamp = words.first, let dot = stamp.firstIndex(of: "."),
              let seconds = Int64(stamp[..<dot]), let micros = Int64(stamp[stamp.index(after: dot)...]) else { return nil }
        timestampMicroseconds = seconds * 1_000_000 + micros
        guard let flagsStart = line.range(of: "Flags ")?.upperBound,
              let flagsEnd = line[flagsStart...].firstIndex(of: "]") else { return nil }
        flags = String(line[flagsStart...flagsEnd])
        sequence = line.range(of: ", seq ").flatMap { UInt32(line[$0.upperBound...].prefix { $0.isNumber }) }
        guard let lengthStart = line.range(of: "length ", options: .backwards)?.upperBound,
              let length = Int(line[lengthStart...].prefix { $0.isNumber }) else { return nil }
        self.length = length
    }
}

/// Runs `body` on a fresh thread that entered the namespace; setns affects only that thread,
/// and netlink sockets stay in the namespace they were created in.
enum NamespaceThread {
    static func run<T: Sendable>(namespace: String, _ body: @escaping @Sendable () throws -> T) -> Result<T, any Error> {
        let box = LockedBox<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.set(Result { try enter(namespace); return try body() })
            done.signal()
        }
        thread.start()
        done.wait()
        return box.get()!
    }

    static func enter(_ namespace: String) throws {
        try NetworkNamespace.enter(named: namespace)
    }
}

/// An NFLOG reader and a socket-state watcher running on one thread inside the namespace
/// until `finish()`.
final class NamespaceCapture: @unchecked Sendable {
    struct Result {
        var records: [NFLogRecord]
        var transitions: [SocketTransition]
        var finalSockets: [TCPSocketDiagnostic]
        var overflows: Int
        var error: (any Error)?
    }

    private let state = LockedBox(Result(records: [], transitions: [], finalSockets: [], overflows: 0, error: nil))
    private let stop = LockedBox(false)
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(namespace: String, group: UInt16, port: UInt16) throws {
        let thread = Thread { [state, stop, ready, finished] in
            defer { finished.signal() }
            do {
                try NamespaceThread.enter(namespace)
                let reader = try NFLogReader(group: group)
                let watcher = try SocketStateWatcher(port: port, interval: .milliseconds(2))
                ready.signal()
                let deadline = ContinuousClock.now + .seconds(20)
                while !stop.get(), ContinuousClock.now < deadline {
                    let records = try reader.read(timeout: .milliseconds(2))
                    let changes = try watcher.poll()
                    state.update { $0.records += records; $0.transitions += changes; $0.overflows = reader.overflowCount }
                }
                // Drain what is left.
                for _ in 0..<100 {
                    let records = try reader.read(timeout: .milliseconds(20))
                    if records.isEmpty { break }
                    state.update { $0.records += records }
                }
                let changes = try watcher.poll()
                let sockets = try watcher.snapshot()
                state.update { $0.transitions += changes; $0.finalSockets = sockets }
            } catch {
                state.update { $0.error = error }
                ready.signal()
            }
        }
        thread.start()
        ready.wait()
        if let error = state.get().error { throw error }
    }

    func finish() throws -> Result {
        stop.set(true)
        finished.wait()
        return state.get()
    }
}

final class LockedBox<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&value) } }
}
