import Foundation
import TCPLab
import XCTest

/// An integration test with a namespace and a scratch directory of its own (both removed
/// afterwards) and tcpdump on the namespace's loopback as the independent witness.
class WitnessedNamespaceTestCase: XCTestCase {
    var lab: LabNamespace!
    var directory: URL!

    /// The namespace's and the directory's name prefix ("tcplab-timeline").
    class var prefix: String { "tcplab-witness" }

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        lab = try LabNamespace(prefix: Self.prefix)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(Self.prefix)-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        lab?.delete()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// tcpdump writing `port`'s segments on lo to `capture`, capturing when this returns.
    /// --immediate-mode: on a fresh namespace's lo it captures nothing when interrupted otherwise.
    func startWitness(port: UInt16, capture: String) throws -> LabProcess {
        let tcpdump = try lab.spawn(["tcpdump", "--immediate-mode", "-U", "-n", "-i", "lo", "-w", capture, "tcp port \(port)"])
        guard tcpdump.waitForError(timeout: 10, { $0.contains("listening on") }) else {
            tcpdump.stop()
            throw XCTSkip("tcpdump did not start (apt-get install tcpdump): \(tcpdump.standardError)")
        }
        return tcpdump
    }

    /// One echo exchange through faultproxy (`arguments` after the binary, relaying 7001 → 7000),
    /// then SIGINT: returns the stopped faultproxy, its output complete.
    func echoThroughFaultProxy(_ arguments: [String]) throws -> LabProcess {
        let server = try lab.spawn([try LabBinaries.path("echo-server")])
        defer { server.stop() }
        let proxy = try lab.spawn([try LabBinaries.path("faultproxy")] + arguments)
        defer { proxy.stop() }  // a no-op once it has exited; ends it if anything below throws
        try proxy.awaitRulesInstalled()
        let client = try lab.run([try LabBinaries.path("echo-client"), "--port", "7001"], timeout: 30, check: false)
        XCTAssertEqual(client.status, 0, client.standardError)
        usleep(300_000)
        proxy.signal(SIGINT)
        XCTAssertEqual(proxy.wait(timeout: 10), 0, proxy.standardError)
        return proxy
    }

    /// (unix µs, "S"/"S."/... flags, payload length) per packet of a pcap, as `tcpdump -tt -r` prints them.
    static func witnessedSegments(_ pcap: String) throws -> [(micros: Int64, flags: String, length: Int)] {
        let text = try CommandRunner.run(["tcpdump", "-n", "-tt", "-r", pcap]).standardOutput
        return text.split(separator: "\n").compactMap { line in
            guard let space = line.firstIndex(of: " "), let seconds = Double(line[..<space]),
                  let flagsStart = line.range(of: "Flags ["), let flagsEnd = line[flagsStart.upperBound...].firstIndex(of: "]"),
                  let lengthRange = line.range(of: "length ", options: .backwards) else { return nil }
            let length = Int(line[lengthRange.upperBound...].prefix { $0.isNumber }) ?? 0
            return (Int64((seconds * 1e6).rounded()), String(line[flagsStart.upperBound..<flagsEnd]), length)
        }
    }
}
