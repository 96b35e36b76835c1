import Foundation
import TCPLab
import XCTest

/// `faultproxy serve` driven by toxiproxy's own clients, unmodified: toxiproxy-python 0.1.1 from
/// PyPI (scripts/setup puts it in .build/toxiproxy-venv) measures every toxic through the proxy,
/// toxiproxy-cli from ../shared/tools/toxiproxy runs its commands, and the same requests sent to
/// toxiproxy 2.12 and to faultproxy get the same answers. Each test has a namespace of its own.
final class FaultProxyServeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static var venvPython: String {
        ProcessInfo.processInfo.environment["TOXIPROXY_VENV"].map { $0 + "/bin/python" }
            ?? repository.appendingPathComponent(".build/toxiproxy-venv/bin/python").path
    }
    static var toxiproxyTools: String {
        ProcessInfo.processInfo.environment["TOXIPROXY_TOOLS"]
            ?? repository.deletingLastPathComponent().appendingPathComponent("shared/tools/toxiproxy").path
    }

    var lab: LabNamespace!
    var processes: [LabProcess] = []

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN) to create network namespaces; CI runs as root") }
        lab = try LabNamespace(prefix: "tcplab-serve")
    }

    override func tearDown() {
        for process in processes.reversed() { process.stop() }
        lab?.delete()
    }

    func requireClient() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.venvPython) else {
            throw XCTSkip("toxiproxy-python is not installed at \(Self.venvPython): run scripts/setup (it needs PyPI)")
        }
    }

    /// echo-server on 7000 and `faultproxy serve` on 8474, both in the lab.
    @discardableResult
    func startServe(_ extra: [String] = []) throws -> LabProcess {
        processes.append(try lab.startEchoServer(["--host", "127.0.0.1", "--port", "7000"]))
        let serve = try lab.spawn([try LabBinaries.path("faultproxy"), "serve", "--port", "8474"] + extra)
        processes.append(serve)
        guard serve.waitForError(timeout: 15, { $0.contains("API on http://") }) else {
            throw LabError.unexpected("faultproxy serve did not start: \(serve.standardError)")
        }
        return serve
    }

    func tables() throws -> String { try lab.run(["nft", "list", "tables"]).standardOutput }

    func testToxiproxyPythonClientMeasuresEveryToxic() throws {
        try requireClient()
        try startServe()
        let script = Self.fixtures.appendingPathComponent("toxiproxy-client/client_test.py").path
        let result = try lab.run([Self.venvPython, script, "8474", "7000"], timeout: 120, check: false)
        print(result.standardOutput)
        XCTAssertEqual(result.status, 0, "failed checks:\n\(result.standardOutput)\(result.standardError)")
        for check in ["latency", "jitter", "toxicity", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer",
                      "limit_data", "enable_disable", "populate_reset_delete", "errors", "patch_live"] {
            XCTAssertTrue(result.standardOutput.contains("{\"check\": \"\(check)\", \"ok\": true"), "\(check):\n\(result.standardOutput)")
        }
    }

    func testAnswersAreToxiproxysByteForByte() throws {
        try startServe()
        let checker = Self.fixtures.appendingPathComponent("toxiproxy-answers/answers.py").path
        let recorded = Self.fixtures.appendingPathComponent("toxiproxy-answers/toxiproxy-2.12.json").path
        let ours = try lab.run(["python3", checker, "check", "http://127.0.0.1:8474", recorded], check: false)
        XCTAssertEqual(ours.status, 0, ours.standardOutput + ours.standardError)
        // The recording against the real server, today, in the same namespace: the fixture is still toxiproxy's.
        let server = Self.toxiproxyTools + "/toxiproxy-server"
        guard FileManager.default.isExecutableFile(atPath: server) else {
            throw XCTSkip("no toxiproxy-server at \(server) for the live side-by-side run (set TOXIPROXY_TOOLS)")
        }
        let toxiproxy = try lab.spawn([server, "-host", "127.0.0.1", "-port", "8475"])
        processes.append(toxiproxy)
        XCTAssertTrue(waitForPort(8475), toxiproxy.standardError)
        let theirs = try lab.run(["python3", checker, "check", "http://127.0.0.1:8475", recorded], check: false)
        XCTAssertEqual(theirs.status, 0, theirs.standardOutput + theirs.standardError)
    }

    func testToxiproxyCLI() throws {
        let cli = Self.toxiproxyTools + "/toxiproxy-cli"
        guard FileManager.default.isExecutableFile(atPath: cli) else { throw XCTSkip("no toxiproxy-cli at \(cli) (set TOXIPROXY_TOOLS)") }
        try startServe()
        func run(_ arguments: [String]) throws -> String {
            let result = try lab.run([cli, "--host", "http://127.0.0.1:8474"] + arguments, check: false)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.standardOutput)\(result.standardError)")
            return result.standardOutput + result.standardError
        }
        XCTAssertTrue(try run(["create", "-l", "127.0.0.1:17501", "-u", "127.0.0.1:7000", "echo"]).contains("Created new proxy echo"))
        XCTAssertTrue(try run(["list"]).contains("127.0.0.1:17501"))
        XCTAssertTrue(try run(["toxic", "add", "-t", "latency", "-a", "latency=100", "echo"]).contains("Added downstream latency toxic"))
        XCTAssertGreaterThanOrEqual(try roundTripMilliseconds(port: 17501), 98)
        XCTAssertTrue(try run(["toxic", "update", "-n", "latency_downstream", "-a", "latency=30", "echo"]).contains("Updated toxic"))
        let inspected = try run(["inspect", "echo"])
        XCTAssertTrue(inspected.contains("latency=30"), inspected)
        let updated = try roundTripMilliseconds(port: 17501)
        XCTAssertTrue((29...60).contains(updated), "latency 30 ms gave \(updated) ms")
        XCTAssertTrue(try run(["toxic", "remove", "-n", "latency_downstream", "echo"]).contains("Removed toxic"))
        XCTAssertLessThan(try roundTripMilliseconds(port: 17501), 20)
        XCTAssertTrue(try run(["toggle", "echo"]).contains("disabled"))
        XCTAssertThrowsError(try roundTripMilliseconds(port: 17501))
        XCTAssertTrue(try run(["toggle", "echo"]).contains("enabled"))
        XCTAssertTrue(try run(["delete", "echo"]).contains("Deleted proxy echo"))
    }

    /// The signature toxic: `drop synack` on the client leg makes connects time out; deleting it
    /// lets the next connect succeed at once; the rules are the owner table's, gone on SIGKILL.
    func testDropSynackThroughTheAPI() throws {
        let serve = try startServe()
        let api = "http://127.0.0.1:8474"
        _ = try http("POST", api + "/proxies", #"{"name":"echo","listen":"127.0.0.1:17601","upstream":"127.0.0.1:7000"}"#)
        let added = try http("POST", api + "/proxies/echo/toxics", #"{"type":"drop","attributes":{"segment":"synack"}}"#)
        XCTAssertTrue(added.contains(#""name":"drop_downstream","type":"drop""#), added)
        XCTAssertTrue(try tables().contains("faultproxy_"), "no table while the toxic is in")
        let started = Date()
        XCTAssertThrowsError(try connectMilliseconds(port: 17601, timeout: 1.5), "connect succeeded with every SYN-ACK dropped")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.4)
        _ = try http("DELETE", api + "/proxies/echo/toxics/drop_downstream", nil)
        XCTAssertEqual(try tables(), "", "the table outlived the toxic")
        let connect = try connectMilliseconds(port: 17601, timeout: 2)
        XCTAssertLessThan(connect, 50, "the first connect after the delete took \(connect) ms")
        let timeline = try http("GET", api + "/proxies/echo/timeline", nil)
        XCTAssertTrue(timeline.contains(#""fate":"dropped","fault_kind":"synack""#), timeline)
        let pcapLength = try lab.run(["sh", "-c", "python3 -c \"import urllib.request,sys; sys.stdout.write(str(len(urllib.request.urlopen('\(api)/proxies/echo/pcap').read())))\""]).standardOutput
        XCTAssertGreaterThan(Int(pcapLength) ?? 0, 24, "the pcap has no packets")
        // A toxic in place when the server is killed: the kernel removes the owner table.
        _ = try http("POST", api + "/proxies/echo/toxics", #"{"type":"drop","attributes":{"segment":"syn","count":1}}"#)
        XCTAssertTrue(try tables().contains("faultproxy_"))
        serve.signal(SIGKILL)
        XCTAssertNotNil(serve.wait(timeout: 10))
        XCTAssertEqual(try tables(), "", "a table survived SIGKILL")
    }

    func testBadSegmentToxicIsRefusedAndTheServerGoesOn() throws {
        try startServe()
        let api = "http://127.0.0.1:8474"
        _ = try http("POST", api + "/proxies", #"{"name":"echo","listen":"127.0.0.1:17701","upstream":"127.0.0.1:7000"}"#)
        let bad = try http("POST", api + "/proxies/echo/toxics", #"{"type":"drop","attributes":{"segment":"synak"}}"#, expect: 400)
        XCTAssertTrue(bad.contains("unknown segment 'synak'"), bad)
        XCTAssertEqual(try http("GET", api + "/proxies/echo/toxics", nil), "[]")
        XCTAssertEqual(try tables(), "")
    }

    // MARK: helpers (the measuring clients run in the lab, on its loopback)

    func http(_ method: String, _ url: String, _ body: String?, expect: Int? = nil) throws -> String {
        let code = """
            import sys, urllib.request, urllib.error
            body = sys.argv[3].encode() if len(sys.argv) > 3 else None
            request = urllib.request.Request(sys.argv[2], data=body, method=sys.argv[1])
            try:
                response = urllib.request.urlopen(request, timeout=20); status = response.status; text = response.read()
            except urllib.error.HTTPError as error:
                status = error.code; text = error.read()
            sys.stdout.write(text.decode()); sys.stderr.write(str(status))
            """
        let result = try lab.run(["python3", "-c", code, method, url] + (body.map { [$0] } ?? []), check: false)
        let status = Int(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        if let expect { XCTAssertEqual(status, expect, "\(method) \(url): \(result.standardOutput)") }
        else { XCTAssertTrue((200..<300).contains(status), "\(method) \(url) → \(status): \(result.standardOutput)") }
        return result.standardOutput
    }

    /// Median of three 100-byte echoes through the proxy, in ms.
    func roundTripMilliseconds(port: Int) throws -> Double {
        let code = """
            import socket, sys, time
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            samples = []
            for _ in range(3):
                start = time.monotonic(); s.sendall(b"x" * 100); got = b""
                while len(got) < 100:
                    chunk = s.recv(100)
                    if not chunk: sys.exit(3)
                    got += chunk
                samples.append((time.monotonic() - start) * 1000)
            print(sorted(samples)[1])
            """
        let result = try lab.run(["python3", "-c", code, String(port)], check: false)
        guard result.status == 0, let value = Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabError.unexpected("no echo through port \(port): \(result.standardError)")
        }
        return value
    }

    /// A plain connect's duration in ms; throws when it does not complete within `timeout` s.
    func connectMilliseconds(port: Int, timeout: Double) throws -> Double {
        let code = """
            import socket, sys, time
            start = time.monotonic()
            socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=float(sys.argv[2])).close()
            print((time.monotonic() - start) * 1000)
            """
        let result = try lab.run(["python3", "-c", code, String(port), String(timeout)], check: false)
        guard result.status == 0, let value = Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabError.unexpected("connect to \(port) failed: \(result.standardError)")
        }
        return value
    }

    func waitForPort(_ port: Int) -> Bool {
        for _ in 0..<100 {
            if (try? connectMilliseconds(port: port, timeout: 0.2)) != nil { return true }
            usleep(100_000)
        }
        return false
    }
}
