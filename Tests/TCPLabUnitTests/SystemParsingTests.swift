import SystemPackage
import TCPLabSystem
import XCTest

final class SystemParsingTests: XCTestCase {
    func testKeepaliveParsesThreeWholeSeconds() throws {
        XCTAssertEqual(try Keepalive(parsing: "1,1,3"), Keepalive(idleSeconds: 1, intervalSeconds: 1, count: 3))
        XCTAssertEqual(try Keepalive(parsing: "7200,75,9"), Keepalive(idleSeconds: 7200, intervalSeconds: 75, count: 9))
    }

    func testKeepaliveRejectsWhatTheKernelWouldRefuse() {
        for bad in ["1,1", "1,1,3,4", "a,1,3", "0,1,3", "1,0,3", "1,1,0", "1,1,128", "32768,1,1", ""] {
            XCTAssertThrowsError(try Keepalive(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("keepalive "), "\(error)")
            }
        }
    }

    func testDurationsInEveryUnit() throws {
        XCTAssertEqual(try Duration(parsing: "300ms"), .milliseconds(300))
        XCTAssertEqual(try Duration(parsing: "2s"), .seconds(2))
        XCTAssertEqual(try Duration(parsing: "1.5s"), .milliseconds(1500))
        XCTAssertEqual(try Duration(parsing: "250us"), .microseconds(250))
        XCTAssertEqual(try Duration(parsing: "1m"), .seconds(60))
        XCTAssertEqual(try Duration(parsing: "3"), .seconds(3))
        XCTAssertEqual(try Duration(parsing: "0"), .zero)
        XCTAssertEqual(try Duration(parsing: "100ms").totalNanoseconds, 100_000_000)
        // Exact decimal reading (shared with fault specs): 0.1 s is 100 ms to the nanosecond.
        XCTAssertEqual(try Duration(parsing: "0.1s").totalNanoseconds, 100_000_000)
        XCTAssertEqual(try Duration(parsing: "2h"), .seconds(7200))
        XCTAssertEqual(try Duration(parsing: " 2S "), .seconds(2))
    }

    func testBadDurationsSayWhy() {
        XCTAssertThrowsError(try Duration(parsing: "-1s")) { XCTAssertTrue("\($0)".contains("negative")) }
        for bad in ["", "ms", "fast", "1.2.3s", "+1s", "1 s", "nan", "infs", "0.5ns", "1e3ms"] {
            XCTAssertThrowsError(try Duration(parsing: bad), bad) { XCTAssertTrue("\($0)".contains("not a duration"), "\($0)") }
        }
    }

    func testSocketAddressesParseBothFamilies() throws {
        let v4 = try SocketAddress(parsing: "127.0.0.1:7000")
        XCTAssertEqual(v4.family, .ipv4)
        XCTAssertEqual(v4.description, "127.0.0.1:7000")
        XCTAssertEqual(v4.addressBytes, [127, 0, 0, 1])
        let v6 = try SocketAddress(parsing: "[::1]:7001")
        XCTAssertEqual(v6.family, .ipv6)
        XCTAssertEqual(v6.description, "[::1]:7001")
        XCTAssertEqual(v6.addressBytes, Array(repeating: 0, count: 15) + [1])
        XCTAssertEqual(try SocketAddress(parsing: "7002").description, "127.0.0.1:7002")
        XCTAssertEqual(try SocketAddress(host: "localhost", port: 1).host, "127.0.0.1")
    }

    func testSocketAddressesGoToTheKernelAndBack() throws {
        for (text, size) in [("127.0.0.1:7000", 16), ("[::1]:7001", 28), ("[2001:db8::7]:40000", 28)] {
            let address = try SocketAddress(parsing: text)
            let (back, length) = try address.withSockaddr { pointer, length in
                // What accept() would hand back: the same bytes in a sockaddr_storage.
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(length))) }
                return (SocketAddress(storage: storage), Int(length))
            }
            XCTAssertEqual(back, address, text)
            XCTAssertEqual(length, size, text)
        }
    }

    func testBadSocketAddressesSayWhy() {
        XCTAssertThrowsError(try SocketAddress(parsing: "127.0.0.1:0")) { XCTAssertTrue("\($0)".contains("out of range")) }
        XCTAssertThrowsError(try SocketAddress(parsing: "127.0.0.1:65536")) { XCTAssertTrue("\($0)".contains("out of range")) }
        XCTAssertThrowsError(try SocketAddress(parsing: "::1:80")) { XCTAssertTrue("\($0)".contains("[ADDR]:PORT")) }
        XCTAssertThrowsError(try SocketAddress(parsing: "example.com:80")) { XCTAssertTrue("\($0)".contains("not a numeric")) }
        XCTAssertThrowsError(try SocketAddress(parsing: "host")) { XCTAssertTrue("\($0)".contains("HOST:PORT")) }
    }

    func testSystemCallErrorsNameTheCallAndTheErrno() {
        let error = SystemCallError(.connectionRefused, call: "connect", subject: "127.0.0.1:7000")
        XCTAssertEqual(error.description, "connect 127.0.0.1:7000: Connection refused (ECONNREFUSED)")
        XCTAssertEqual(SystemCallError(.timedOut, call: "connect").errnoName, "ETIMEDOUT")
        XCTAssertEqual(SystemCallError(.notPermitted, call: "mnl_socket_sendto").description,
                       "mnl_socket_sendto: Operation not permitted (EPERM)")
    }
}
