import Foundation
import TCPLab
import TCPLabObserve
import XCTest

/// The timeline at bulk speed: iperf3 sends 1 GiB through a transparent faultproxy, and what the
/// timeline holds plus what it says it missed is exactly what tcpdump saw on lo.
final class BulkCaptureTests: WitnessedNamespaceTestCase {
    override class var prefix: String { "tcplab-bulk" }
    private static let port: UInt16 = 5201

    func testOneStream() throws { try transfer(streams: 1) }
    func testEightStreams() throws { try transfer(streams: 8) }
    /// More than the packet ring holds (200k–390k frames against its ~160k: 20–39k a GiB): the
    /// watch moves a burst's blocks aside while it lasts. At SCHED_IDLE beside iperf3 and tcpdump
    /// it may be starved until the ring is full (3,900 of 385,684 frames lost in one of three
    /// local runs, one of 189,726 once in CI): what is lost is counted, and without the move it
    /// would be more than half.
    func testABurstLongerThanTheRing() throws { try transfer(streams: 2, gibibytes: 10) }

    private func transfer(streams: Int, gibibytes: Int = 1) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/iperf3") else {
            throw XCTSkip("iperf3 is not installed (apt-get install iperf3; scripts/setup does)")
        }
        let witnessFile = directory.appendingPathComponent("witness.pcap").path
        let pcap = directory.appendingPathComponent("faultproxy.pcap").path
        // Headers only and a large buffer, so tcpdump itself keeps up (it says so on exit).
        let tcpdump = try lab.spawn(["tcpdump", "--immediate-mode", "-n", "-i", "lo", "-s", "128", "-B", "65536", "-w", witnessFile,
                                     "tcp port \(Self.port)"])
        defer { tcpdump.stop() }
        guard tcpdump.waitForError(timeout: 10, { $0.contains("listening on") }) else { throw XCTSkip("tcpdump did not start: \(tcpdump.standardError)") }
        let server = try lab.spawn(["iperf3", "-s", "-1", "-p", "\(Self.port)"])
        defer { server.stop() }
        let proxy = try lab.spawn([try LabBinaries.path("faultproxy"), "--target", "\(Self.port)", "--drop", "rst:1",
                                   "--timeline", "json", "--pcap", pcap, "--snaplen", "128"])
        defer { proxy.stop() }
        try proxy.awaitRulesInstalled()
        usleep(200_000)

        let client = try lab.run(["iperf3", "-c", "127.0.0.1", "-p", "\(Self.port)", "-n", "\(gibibytes)G", "-P", "\(streams)", "-J"], timeout: 120, check: false)
        XCTAssertEqual(client.status, 0, client.standardError)
        usleep(300_000)
        proxy.signal(SIGINT)
        XCTAssertEqual(proxy.wait(timeout: 60), 0, proxy.standardError)
        tcpdump.signal(SIGINT)
        tcpdump.wait(timeout: 10)

        let dropped = tcpdump.standardError.split(separator: "\n").first { $0.contains("dropped by kernel") }
        XCTAssertEqual(dropped.map { $0.hasPrefix("0 ") }, true, "tcpdump must keep up itself: \(tcpdump.standardError)")
        let witnessed = try CommandRunner.run(["tcpdump", "-n", "-r", witnessFile], timeout: 120).standardOutput.split(separator: "\n").count

        var segments = 0
        var capture: [String: Any]?
        for line in proxy.standardOutput.split(separator: "\n") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            switch object["type"] as? String {
            case "segment": segments += 1
            case "capture": capture = object
            default: break
            }
        }
        let summary = try XCTUnwrap(capture, "no capture line at the end of the timeline")
        let logged = try XCTUnwrap(summary["logged"] as? Int), missed = try XCTUnwrap(summary["missed"] as? Int)
        print("iperf3 \(gibibytes) GiB, \(streams) stream(s): tcpdump \(witnessed) segments, the kernel logged \(logged), the timeline holds \(segments), reports \(missed) missed")
        XCTAssertEqual(logged, witnessed, "every segment tcpdump saw was logged once")
        XCTAssertEqual(segments + missed, witnessed, "what the timeline holds plus what it says it missed is what crossed")
        if gibibytes == 1 && streams == 1 { XCTAssertEqual(missed, 0, "one stream: the timeline keeps up") }
        if gibibytes > 1 {
            XCTAssertGreaterThan(witnessed, ObservationSession.ringBytes / ObservationSession.ringFrameBytes, "the burst outlasts the ring")
            // Without the move more than half would be lost; a starved reader loses some (1 % once).
            XCTAssertLessThan(missed * 10, witnessed, "fewer than 10 % missed: a burst is moved out of the ring before it fills")
        }
        let readBack = try CommandRunner.run(["tcpdump", "-n", "-r", pcap], timeout: 120).standardOutput.split(separator: "\n").count
        XCTAssertEqual(readBack, segments, "faultproxy's pcap holds what its timeline holds")
    }
}
