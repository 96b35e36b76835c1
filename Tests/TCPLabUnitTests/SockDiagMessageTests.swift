import TCPLabSystem
import CTCPLabShim
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import XCTest

/// sock_diag messages built by hand: ports and addresses big-endian, the rest host order.
final class SockDiagMessageTests: XCTestCase {
    func testStructSizesMatchTheKernelHeaders() {
        XCTAssertEqual(tcplab_inet_diag_req_v2_size(), SockDiagMessage.requestLength)
        XCTAssertEqual(tcplab_inet_diag_msg_size(), SockDiagMessage.messageLength)
    }

    func testDumpRequestBytes() {
        let request = SockDiagMessage.dumpRequest(family: 10, sequence: 5)
        XCTAssertEqual(request.count, 16 + 56)
        XCTAssertEqual(Array(request[0..<8]), [72, 0, 0, 0, 20, 0, 0x01, 0x03])  // len, SOCK_DIAG_BY_FAMILY, REQUEST|DUMP
        XCTAssertEqual(Array(request[16..<24]), [10, 6, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])  // AF_INET6, TCP, no ext, all states
        XCTAssertTrue(request[24...].allSatisfy { $0 == 0 })
    }

    /// struct inet_diag_msg for 127.0.0.1:41234 -> 127.0.0.1:5555 in TIME_WAIT.
    static func diagMessage(family: UInt8 = 2, state: UInt8 = 6, timer: UInt8 = 3, retrans: UInt8 = 0,
                            sport: UInt16 = 41234, dport: UInt16 = 5555, source: [UInt8] = [127, 0, 0, 1],
                            destination: [UInt8] = [127, 0, 0, 1], expires: UInt32 = 59_720, inode: UInt32 = 0) -> [UInt8] {
        var body: [UInt8] = [family, state, timer, retrans]
        body.appendNetworkOrder(sport)                                  // id.idiag_sport
        body.appendNetworkOrder(dport)                                  // id.idiag_dport
        body += source + [UInt8](repeating: 0, count: 16 - source.count)       // id.idiag_src
        body += destination + [UInt8](repeating: 0, count: 16 - destination.count)  // id.idiag_dst
        body.appendHostOrder(UInt32(1))                                 // id.idiag_if
        body.appendHostOrder(UInt32(0xAABB))                            // id.idiag_cookie[0]
        body.appendHostOrder(UInt32(0x1))                               // id.idiag_cookie[1]
        body.appendHostOrder(expires)                                   // idiag_expires (ms)
        body.appendHostOrder(UInt32(0))                                 // idiag_rqueue
        body.appendHostOrder(UInt32(0))                                 // idiag_wqueue
        body.appendHostOrder(UInt32(0))                                 // idiag_uid
        body.appendHostOrder(inode)                                     // idiag_inode
        return NetlinkWireMessage.encode(type: 20, flags: 0x2, sequence: 5, payload: body)
    }

    func testTimeWaitSocket() throws {
        let items = try SockDiagMessage.parse(datagram: Self.diagMessage())
        guard case .socket(let socket) = items.first else { return XCTFail("\(items)") }
        XCTAssertEqual(socket.state, .timeWait)
        XCTAssertEqual(socket.state.description, "TIME_WAIT")
        XCTAssertEqual(socket.timer, .timeWait)
        XCTAssertEqual(socket.expiresMilliseconds, 59_720)
        XCTAssertEqual(socket.local.description, "127.0.0.1:41234")
        XCTAssertEqual(socket.remote.description, "127.0.0.1:5555")
        XCTAssertEqual(socket.cookie, 0x1_0000_AABB)
    }

    func testIPv6RequestSocketAndDone() throws {
        let loopback6 = [UInt8](repeating: 0, count: 15) + [1]
        var done: [UInt8] = NetlinkWireMessage.encode(type: 3, flags: 0x2, sequence: 5, payload: [0, 0, 0, 0])
        let datagram = Self.diagMessage(family: 10, state: 3, timer: 1, retrans: 1, sport: 5555, dport: 40222,
                                        source: loopback6, destination: loopback6, expires: 1980) + done
        let items = try SockDiagMessage.parse(datagram: datagram)
        XCTAssertEqual(items.count, 2)
        XCTAssertEqual(items.last, .done)
        guard case .socket(let socket) = items.first else { return XCTFail("\(items)") }
        XCTAssertEqual(socket.state.description, "SYN_RECV")
        XCTAssertEqual(socket.timer, .retransmit)
        XCTAssertEqual(socket.retransmits, 1)
        XCTAssertEqual(socket.local.description, "[::1]:5555")
        done = Array(datagram.prefix(80))
        XCTAssertThrowsError(try SockDiagMessage.parse(datagram: done))
    }

    func testTrackerReportsTransitionsInTheIssueFormat() throws {
        let listener = InetEndpoint(address: InetAddress("127.0.0.1")!, port: 5555)
        let peer = InetEndpoint(address: InetAddress("127.0.0.1")!, port: 40000)
        var tracker = SocketStateTracker(port: 5555, originUnixMicroseconds: 0)
        func server(_ state: TCPState, timer: SocketTimer = .none, expires: UInt32 = 0, retrans: UInt8 = 0) -> TCPSocketDiagnostic {
            TCPSocketDiagnostic(state: state, timer: timer, expiresMilliseconds: expires, retransmits: retrans,
                                local: listener, remote: peer, inode: 0)
        }
        let listening = TCPSocketDiagnostic(state: .listen, timer: .none, expiresMilliseconds: 0, retransmits: 0,
                                            local: listener, remote: InetEndpoint(address: InetAddress("0.0.0.0")!, port: 0), inode: 9)
        var changes = tracker.update([listening, server(.synReceived, timer: .retransmit, expires: 990)], timeUnixMicroseconds: 10_000)
        XCTAssertEqual(changes.map(\.description), ["+0.010s server SYN_RECV (retransmit timer 0.99 s)"])
        // Only the expiry ticked: nothing to report.
        XCTAssertTrue(tracker.update([server(.synReceived, timer: .retransmit, expires: 500)], timeUnixMicroseconds: 500_000).isEmpty)
        changes = tracker.update([server(.synReceived, timer: .retransmit, expires: 1980, retrans: 1)], timeUnixMicroseconds: 1_020_000)
        XCTAssertEqual(changes.map(\.description), ["+1.020s server SYN_RECV (retransmit timer 1.98 s, retrans 1)"])
        XCTAssertEqual(changes.first?.side, .server)
        changes = tracker.update([], timeUnixMicroseconds: 2_000_000)
        XCTAssertEqual(changes.map(\.description), ["+2.000s server CLOSED"])
        XCTAssertEqual(changes.first?.previousState, .synReceived)
    }
}
