import Foundation
import TCPLab
import TCPLabTesting
import Testing

/// The README's example in Swift Testing's style: the `.tcpLab` trait makes the lab (and skips
/// without root), typed faults, and expectations that attach the ladder, timeline and pcap on failure.
@Suite struct SwiftTestingLabTests {
    @Test(.tcpLab(sysctls: ["net.ipv4.tcp_synack_retries": 2]))
    func connectTimeoutFiresAfterTheSecondLostSynAck() throws {
        let lab = try #require(Lab.current)
        try lab.echoServer()
        let fault = try lab.fault(.drop(.synack))
        lab.echoClientExpectingTimeout()
        let observation = fault.stop()
        observation.expectDropped(.synack, count: 3, before: 1.5)
        #expect(observation.segments(.syn, from: .client).count == 2)
    }

    @Test(.tcpLab())
    func aDelayedReplyArrivesLateByTheDelay() throws {
        let lab = try #require(Lab.current)
        try lab.echoServer()
        let fault = try lab.fault(.delay(.data, .milliseconds(300), from: .server))
        let client = try lab.echoClient()
        #expect(client.echoOK)
        let observation = fault.stop()
        let sent = try #require(observation.segments(.data, from: .client).first)
        let echoed = try #require(observation.segments(.data, from: .server).last)
        let seconds = Double(echoed.timeUnixMicroseconds - sent.timeUnixMicroseconds) / 1_000_000
        // Held 300 ms in the queue (timerfd, µs precision), plus the echo's own microseconds.
        #expect(seconds >= 0.300 && seconds < 0.350, "echo after \(seconds) s")
    }

    @Test(.tcpLab())
    func theEvidenceHoldsTheLadderTimelineAndPcap() throws {
        let lab = try #require(Lab.current)
        try lab.echoServer()
        let fault = try lab.fault(.drop(.synack, count: 1))
        #expect(try lab.echoClient().echoOK)
        fault.stop()
        let files = Dictionary(uniqueKeysWithValues: lab.evidence().files.map { ($0.name, $0.contents) })
        let stem = "fault-1-port-\(lab.port)"
        #expect(String(decoding: files[stem + ".ladder.txt"] ?? [], as: UTF8.self).contains("synack"))
        #expect(String(decoding: files[stem + ".ladder.svg"] ?? [], as: UTF8.self).hasPrefix("<svg"))
        let timeline = String(decoding: files[stem + ".timeline.jsonl"] ?? [], as: UTF8.self)
        #expect(timeline.split(separator: "\n").contains { $0.contains("\"fate\":\"dropped\"") })
        // pcap magic (microsecond, little-endian) and at least the handshake's packets.
        let pcap = files[stem + ".pcap"] ?? []
        #expect(pcap.prefix(4) == [0xd4, 0xc3, 0xb2, 0xa1])
        #expect(pcap.count > 24 + 3 * 16)
    }
}

extension Lab {
    /// echo-client with a 1.5 s connect timeout, expected to time out after 1.5 s.
    fileprivate func echoClientExpectingTimeout() {
        do {
            try echoClient(["--connect-timeout", "1.5s"]).expectFailed("ETIMEDOUT", after: 1.5)
        } catch {
            Issue.record(error)
        }
    }
}
