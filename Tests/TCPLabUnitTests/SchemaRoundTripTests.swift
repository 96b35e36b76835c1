import Foundation
import TCPLabNetlink
import TCPLabObserve
import TCPLabSchema
import TCPLabSystem
import XCTest

/// Every JSON schema that crosses a process boundary: encoded as the writer does (JSONLines),
/// decoded as the reader does, equal again; and the keys docs/timeline-json.md documents.
final class SchemaRoundTripTests: XCTestCase {
    func roundTrip<Record: Codable & Equatable>(_ record: Record, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let text = JSONLines.encode(record)
        XCTAssertEqual(try JSONDecoder().decode(Record.self, from: Data(text.utf8)), record, text, file: file, line: line)
        return text
    }

    static let segment = TimelineEvent(
        connection: 0, offsetMicroseconds: 1_010_000, timeUnixMicroseconds: 2_010_000, from: .client,
        source: "127.0.0.1:40000", destination: "127.0.0.1:7000", kind: .syn, retransmission: true, fate: .delayed,
        faultKind: .syn, flags: "S", sequenceRelative: 0, acknowledgmentRelative: nil, sequenceRaw: 100,
        acknowledgmentRaw: 0, payloadBytes: 0, windowRaw: 65495, maximumSegmentSizeBytes: 65495, windowScale: 7,
        sackPermitted: true, timestampValue: 1, timestampEchoReply: 0, sackRelative: [[1, 2]], options: ["mss 65495"],
        faultDelayMicroseconds: 300_000, faultJitterMicroseconds: 5_000
    )

    func testSegmentLine() throws {
        let line = try roundTrip(TimelineRecord.segment(Self.segment))
        XCTAssertEqual(line, #"{"ack_raw":0,"conn":0,"dst":"127.0.0.1:7000","fate":"delayed","fault_delay_us":300000,"#
            + #""fault_jitter_us":5000,"fault_kind":"syn","flags":"S","from":"client","kind":"syn","len_bytes":0,"#
            + #""mss_bytes":65495,"options":["mss 65495"],"retransmission":true,"sack_ok":true,"sack_rel":[[1,2]],"#
            + #""seq_raw":100,"seq_rel":0,"src":"127.0.0.1:40000","t_us":1010000,"ts_ecr":0,"ts_val":1,"type":"segment","#
            + #""unix_us":2010000,"win_raw":65495,"wscale":7}"#)
    }

    func testStateLineKeepsANullPreviousStateAndReadsBackAsATransition() throws {
        let transition = SocketTransition(
            offsetMicroseconds: 2000, timeUnixMicroseconds: 1_002_000, side: .client,
            local: try XCTUnwrap(InetEndpoint("127.0.0.1:40000")), remote: try XCTUnwrap(InetEndpoint("[::1]:7000")),
            state: .synSent, previousState: nil, timer: .retransmit, expiresMilliseconds: 1000, retransmits: 0
        )
        let line = try roundTrip(TimelineRecord.state(transition.record))
        XCTAssertEqual(line, #"{"expires_ms":1000,"local":"127.0.0.1:40000","previous_state":null,"remote":"[::1]:7000","#
            + #""retrans":0,"side":"client","state":"SYN_SENT","t_us":2000,"timer":"retransmit timer","type":"state","unix_us":1002000}"#)
        XCTAssertEqual(SocketTransition(record: transition.record), transition)
        var gone = transition
        gone.state = nil
        gone.previousState = .established
        gone.timer = .none
        XCTAssertEqual(SocketTransition(record: gone.record), gone, "CLOSED reads back as no state")
    }

    func testKernelLine() throws {
        let record = KernelEventRecord(event: "inet_sock_set_state", timeUnixMicroseconds: 5, monotonicMicroseconds: 3,
                                       side: .server, local: "127.0.0.1:7000", remote: "127.0.0.1:40000",
                                       oldState: "LAST_ACK", newState: "CLOSED")
        let line = try roundTrip(TimelineRecord.kernel(record))
        XCTAssertEqual(line, #"{"event":"inet_sock_set_state","local":"127.0.0.1:7000","mono_us":3,"new_state":"CLOSED","#
            + #""old_state":"LAST_ACK","remote":"127.0.0.1:40000","side":"server","type":"kernel","unix_us":5}"#)
        var retransmit = record
        (retransmit.oldState, retransmit.newState) = (nil, nil)
        XCTAssertFalse(try roundTrip(TimelineRecord.kernel(retransmit)).contains("old_state"))
    }

    func testCaptureLine() throws {
        XCTAssertEqual(try roundTrip(TimelineRecord.capture(TimelineCapture(logged: 3, received: 2))),
                       #"{"logged":3,"missed":1,"received":2,"type":"capture"}"#)
    }

    func testASegmentLineWithoutTypeIsASegment() throws {
        let object = JSONLines.encode(Self.segment)
        XCTAssertFalse(object.contains("\"type\""))
        XCTAssertEqual(try JSONDecoder().decode(TimelineRecord.self, from: Data(object.utf8)), .segment(Self.segment))
    }

    static let tcpInfo = TCPInfoSummary(state: "ESTABLISHED", retransmits: 0, totalRetrans: 1, rtoMicroseconds: 204_000,
                                        probes: 0, backoff: 0, rttMicroseconds: 30)

    func testEchoClientReportWritesEveryKeyAndReadsBack() throws {
        let failed = EchoClientReport(echoOK: false, bytes: 0, error: "ETIMEDOUT", elapsedMilliseconds: 7130.5, connections: 1)
        XCTAssertEqual(try roundTrip(failed), #"{"bytes":0,"connect_ms":null,"connections":1,"echo_ok":false,"elapsed_ms":7130.5,"#
            + #""error":"ETIMEDOUT","first_write_ms":null,"local":null,"sent":0,"tcp_info":null}"#)
        let echoed = EchoClientReport(connectMilliseconds: 0.2, echoOK: true, bytes: 5, sent: 0, firstWriteMilliseconds: 0.3,
                                      elapsedMilliseconds: 1.5, connections: 1, local: "127.0.0.1:40000", tcpInfo: Self.tcpInfo)
        XCTAssertTrue(try roundTrip(echoed).contains(#""tcp_info":{"backoff":0,"probes":0,"retransmits":0,"rto_us":204000,"rtt_us":30,"state":"ESTABLISHED","total_retrans":1}"#))
    }

    /// `@ExplicitNull` keys are always written, but a line that leaves one out (an older writer) still reads, as nil.
    func testAnExplicitNullKeyMayBeMissing() throws {
        let state = #"{"expires_ms":0,"local":"127.0.0.1:40000","remote":"127.0.0.1:7000","retrans":0,"side":"client","#
            + #""state":"SYN_SENT","t_us":0,"timer":"no timer","type":"state","unix_us":1}"#
        guard case .state(let record) = try JSONDecoder().decode(TimelineRecord.self, from: Data(state.utf8)) else {
            return XCTFail("not a state line")
        }
        XCTAssertNil(record.previousState)
        let report = #"{"bytes":0,"connections":1,"echo_ok":false,"elapsed_ms":2}"#
        XCTAssertEqual(try JSONDecoder().decode(EchoClientReport.self, from: Data(report.utf8)),
                       EchoClientReport(echoOK: false, bytes: 0, elapsedMilliseconds: 2, connections: 1))
    }

    func testEchoServerEventOmitsWhatItDoesNotSay() throws {
        XCTAssertEqual(try roundTrip(EchoServerEvent(event: "listening", address: "127.0.0.1:7000", backlog: 4, maxFiles: 16, freeFiles: 9)),
                       #"{"address":"127.0.0.1:7000","backlog":4,"event":"listening","free_files":9,"max_files":16}"#)
        _ = try roundTrip(EchoServerEvent(event: "closed", peer: "127.0.0.1:40000", how: "reset", tcpInfo: Self.tcpInfo))
        XCTAssertEqual(try roundTrip(EchoServerEvent(event: "resumed", failures: 3, durationMilliseconds: 12.5)),
                       #"{"duration_ms":12.5,"event":"resumed","failures":3}"#)
        _ = try roundTrip(EchoServerEvent(event: "error", error: "EMFILE", message: "accept4: EMFILE", call: "accept4", retryMilliseconds: 50))
    }

    func testDropAndDelayReports() throws {
        XCTAssertEqual(try roundTrip(DropReport(dropped: ["synack": 8])), #"{"dropped":{"synack":8}}"#)
        let delays = DelayReport(delayed: ["data": 2], duplicated: ["syn": 1], copiesSent: 1, failedOpen: 0, releasedAtExit: 0,
                                 queueNumber: 3, latenessMicroseconds: ["p50": 60, "p99": 200, "max": 210])
        XCTAssertEqual(try roundTrip(DelayReportLine(queue: delays)), #"{"queue":{"copies_sent":1,"delayed":{"data":2},"#
            + #""duplicated":{"syn":1},"failed_open":0,"lateness_us":{"max":210,"p50":60,"p99":200},"queue":3,"released_at_exit":0}}"#)
        var none = delays
        none.latenessMicroseconds = nil
        XCTAssertFalse(try roundTrip(none).contains("lateness_us"))
    }
}
