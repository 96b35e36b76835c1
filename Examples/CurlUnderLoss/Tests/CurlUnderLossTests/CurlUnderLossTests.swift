import Foundation
import TCPLab
import TCPLabTesting
import Testing

/// curl's `--connect-timeout` when every SYN-ACK is lost, and its timing when the server's
/// reply is held back: the kernel's real behaviour, with curl's own figures (`-w`).
@Suite struct CurlUnderLossTests {
    /// Python's http.server on the server's host, listening when this returns.
    func startHTTPServer(_ lab: Lab) throws {
        let server = try lab.start(["python3", "-m", "http.server", String(lab.port), "--bind", lab.serverAddress], on: .server)
        let listening = lab.wait(timeout: 10) {
            (try? lab.run(["ss", "-Hltn", "sport = :\(lab.port)"], on: .server).standardOutput.contains("LISTEN")) ?? false
        }
        try #require(listening, "http.server did not listen: \(server.standardError)")
    }

    /// curl's exit status and `-w` figures: connect time and total time, in seconds.
    func curl(_ lab: Lab, _ options: [String]) throws -> (status: Int32, connect: Double, total: Double) {
        let result = try lab.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{time_connect} %{time_total}"]
                                 + options + ["http://\(lab.serverAddress):\(lab.port)/"], timeout: 30)
        let figures = result.standardOutput.split(separator: " ").compactMap { Double($0) }
        try #require(figures.count == 2, "curl printed \(result.standardOutput) \(result.standardError)")
        return (result.status, figures[0], figures[1])
    }

    @Test(.tcpLab(sysctls: ["net.ipv4.tcp_synack_retries": 2]))
    func connectTimeoutFiresWhenEverySynAckIsLost() throws {
        let lab = try #require(Lab.current)
        try startHTTPServer(lab)
        let fault = try lab.fault(.drop(.synack))
        let (status, _, total) = try curl(lab, ["--connect-timeout", "2"])
        #expect(status == 28, "curl's exit status for a timeout is 28")
        // curl's own timer: 2 s, give or take its polling and a scheduler's tick.
        #expect(abs(total - 2) < 0.1, "curl gave up after \(total) s")
        // Lost before the timeout: the first SYN-ACK, then at +1 s the retransmission and the one the repeated SYN drew.
        fault.stop().expectDropped(.synack, count: 3, before: 2)
    }

    @Test(.tcpLab())
    func aDelayedReplyArrivesLateByTheDelay() throws {
        let lab = try #require(Lab.current)
        try startHTTPServer(lab)
        let fault = try lab.fault(.delay(.data, .milliseconds(400), from: .server))
        let (status, connect, total) = try curl(lab, ["--max-time", "5"])
        #expect(status == 0)
        #expect(connect < 0.05, "the handshake is not delayed: connected after \(connect) s")
        // The reply's data segments are each held 400 ms; they leave together, so the whole reply is 400 ms late.
        #expect(total >= 0.4 && total < 0.6, "the reply came after \(total) s")
        let observation = fault.stop()
        #expect(observation.segments(.data, from: .server).count >= 1)
    }
}
