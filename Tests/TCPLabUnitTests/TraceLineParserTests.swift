import TCPLabFault
import TCPLabObserve
import XCTest

/// trace_pipe lines as this kernel prints them (captured on 6.18), put on NFLOG's clock.
final class TraceLineParserTests: XCTestCase {
    private let clock = TraceClockMapping(offsetMicroseconds: 1_796_000_000_000_000)

    func testAStateChangeNamesBothStatesAndItsSide() throws {
        let line = "     echo-server-16035   [000] .....  2579.420954: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=7777 dport=50412 saddr=10.77.0.2 daddr=10.77.0.1 saddrv6=::ffff:10.77.0.2 daddrv6=::ffff:10.77.0.1 oldstate=TCP_LAST_ACK newstate=TCP_CLOSE"
        let event = try XCTUnwrap(TraceLineParser.parse(line[...], port: 7777, clock: clock))
        XCTAssertEqual(event.name, .stateChange)
        XCTAssertEqual(event.monotonicMicroseconds, 2_579_420_954)
        XCTAssertEqual(event.timeUnixMicroseconds, 1_796_000_000_000_000 + 2_579_420_954)
        XCTAssertEqual(event.side, .server)
        XCTAssertEqual(event.local.description, "10.77.0.2:7777")
        XCTAssertEqual(event.remote.description, "10.77.0.1:50412")
        XCTAssertEqual(event.oldState, .lastAck)
        XCTAssertEqual(event.newState, .close)
        XCTAssertEqual(event.summary, "server LAST_ACK → CLOSED (inet_sock_set_state)")
    }

    func testARetransmissionCarriesTheSocketsState() throws {
        let line = "          <idle>-0       [001] ..s2.  2579.420138: tcp_retransmit_skb: skbaddr=000000006ce21567 skaddr=0000000024778723 family=AF_INET sport=50412 dport=7777 saddr=10.77.0.1 daddr=10.77.0.2 saddrv6=::ffff:10.77.0.1 daddrv6=::ffff:10.77.0.2 state=TCP_FIN_WAIT1 err=0"
        let event = try XCTUnwrap(TraceLineParser.parse(line[...], port: 7777, clock: clock))
        XCTAssertEqual(event.name, .retransmit)
        XCTAssertEqual(event.side, .client)
        XCTAssertEqual(event.newState, .finWait1)
        XCTAssertNil(event.oldState)
    }

    func testIPv6TakesTheV6AddressesAndOtherLinesAreSkipped() throws {
        let line = "  x-1 [000] .....  10.000001: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=40000 dport=7000 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=::1 daddrv6=::1 oldstate=TCP_SYN_SENT newstate=TCP_ESTABLISHED"
        let event = try XCTUnwrap(TraceLineParser.parse(line[...], port: 7000, clock: clock))
        XCTAssertEqual(event.local.description, "[::1]:40000")
        XCTAssertNil(TraceLineParser.parse("CPU:1 [LOST 12 EVENTS]", port: 7000, clock: clock))
        XCTAssertNil(TraceLineParser.parse("  x-1 [000] .....  10.000001: tcp_probe: family=AF_INET sport=1 dport=2", port: 7000, clock: clock))
    }

    /// tcp_v4_connect sets SYN_SENT before it picks the port (lines captured on 6.18).
    func testAConnectsFirstStateChangeTakesThePortOfItsSocket() throws {
        let lines = [
            "python3-7663 [001] ..... 21920.656759: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=0 dport=7999 saddr=127.0.0.1 daddr=127.0.0.1 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.1 oldstate=TCP_CLOSE newstate=TCP_SYN_SENT",
            "python3-7663 [001] .Ns2. 21920.656800: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=7999 dport=35000 saddr=127.0.0.1 daddr=127.0.0.1 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.1 oldstate=TCP_LISTEN newstate=TCP_SYN_RECV",
            "python3-7663 [001] ..... 21920.656846: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=35098 dport=7999 saddr=127.0.0.1 daddr=127.0.0.1 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.1 oldstate=TCP_SYN_SENT newstate=TCP_ESTABLISHED",
        ]
        let events = try lines.map { try XCTUnwrap(TraceLineParser.parse($0[...], port: 7999, clock: clock)) }
        XCTAssertEqual(events[0].local.port, 0)
        XCTAssertTrue(events[0].opensSocket)
        XCTAssertTrue(events[1].opensSocket)
        XCTAssertFalse(events[2].opensSocket)
        let attributed = events.attributingConnectsToTheirPorts()
        XCTAssertEqual(attributed.map(\.local.port), [35098, 7999, 35098])
        XCTAssertEqual(Array(attributed[1...]), Array(events[1...]))
        // A connect whose socket never shows again keeps the kernel's port 0.
        XCTAssertEqual([events[0]].attributingConnectsToTheirPorts(), [events[0]])
    }

    /// Tracepoints are global: only the sockets this namespace's NFLOG or sock_diag showed count.
    func testOnlyTheNamespacesOwnSocketsKeepTheirEvents() throws {
        func event(_ fields: String) throws -> KernelEvent {
            try XCTUnwrap(TraceLineParser.parse("x-1 [000] ..... 10.000001: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP \(fields)"[...], port: 7000, clock: clock))
        }
        let ownConnect = try event("sport=0 dport=7000 saddr=127.0.0.1 daddr=127.0.0.1 oldstate=TCP_CLOSE newstate=TCP_SYN_SENT")
        let ownEstablished = try event("sport=40000 dport=7000 saddr=127.0.0.1 daddr=127.0.0.1 oldstate=TCP_SYN_SENT newstate=TCP_ESTABLISHED")
        let mappedServer = try XCTUnwrap(TraceLineParser.parse("x-1 [000] ..... 10.000002: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP sport=7000 dport=40000 saddr=127.0.0.1 daddr=127.0.0.1 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.1 oldstate=TCP_LISTEN newstate=TCP_SYN_RECV"[...], port: 7000, clock: clock))
        let foreign = try event("sport=7000 dport=51000 saddr=127.0.0.1 daddr=127.0.0.1 oldstate=TCP_ESTABLISHED newstate=TCP_CLOSE")
        let listener = try event("sport=7000 dport=0 saddr=127.0.0.1 daddr=0.0.0.0 oldstate=TCP_LISTEN newstate=TCP_CLOSE")
        let syn = TimelineEvent(connection: 0, offsetMicroseconds: 0, timeUnixMicroseconds: 1, from: .client, source: "127.0.0.1:40000",
                                destination: "127.0.0.1:7000", kind: .syn, retransmission: false, fate: .passed, flags: "S",
                                sequenceRelative: 0, acknowledgmentRelative: nil, sequenceRaw: 1, acknowledgmentRaw: 0, payloadBytes: 0, windowRaw: 1)
        let owned = [ownConnect, ownEstablished, mappedServer, foreign, listener].ownedBy(SocketPairs(segments: [syn], transitions: []))
        XCTAssertEqual(owned.map(\.local.port), [40000, 40000, 7000])
        XCTAssertEqual(owned.map(\.newState), [.synSent, .established, .synReceived])
        XCTAssertEqual(mappedServer.record.local, "127.0.0.1:7000", "a dual-stack socket's line names its IPv4 endpoint as the segments do")
        XCTAssertEqual(mappedServer.record.remote, "127.0.0.1:40000")
    }
}
