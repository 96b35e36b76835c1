import TCPLab
import XCTest

/// The accept-queue model against cases worked out by hand from tcp_conn_request and
/// tcp_check_req (see AcceptQueueModel's comment).
final class AcceptQueueModelTests: XCTestCase {
    func testTheQueueHoldsOneMoreThanTheBacklog() {
        XCTAssertEqual(AcceptQueueModel.capacity(backlog: 1, somaxconn: 4096), 2)
        XCTAssertEqual(AcceptQueueModel.capacity(backlog: 0, somaxconn: 4096), 1)
        // listen(1000) with somaxconn 128: clamped to 128, holds 129.
        XCTAssertEqual(AcceptQueueModel.capacity(backlog: 1000, somaxconn: 128), 129)
    }

    func testASynAtAFullAcceptQueueGetsNoAnswerEvenWithCookies() {
        // backlog 1: two established connections fill it; the third SYN is dropped outright.
        XCTAssertEqual(AcceptQueueModel.synFate(acceptQueue: 2, requests: 0, backlog: 1, somaxconn: 4096, syncookies: 1), .droppedAcceptQueueFull)
        XCTAssertEqual(AcceptQueueModel.synFate(acceptQueue: 2, requests: 0, backlog: 1, somaxconn: 4096, syncookies: 2), .droppedAcceptQueueFull)
        // One connection queued: still room (full means more than the backlog).
        XCTAssertEqual(AcceptQueueModel.synFate(acceptQueue: 1, requests: 1, backlog: 1, somaxconn: 4096, syncookies: 1), .answered)
    }

    func testAFullRequestQueueMeansCookiesOrADrop() {
        // backlog 4: five requests in SYN_RECV fill it.
        XCTAssertEqual(AcceptQueueModel.synFate(acceptQueue: 0, requests: 5, backlog: 4, somaxconn: 4096, syncookies: 1), .cookie)
        XCTAssertEqual(AcceptQueueModel.synFate(acceptQueue: 0, requests: 5, backlog: 4, somaxconn: 4096, syncookies: 0), .droppedRequestQueueFull)
        XCTAssertEqual(AcceptQueueModel.synFate(acceptQueue: 0, requests: 4, backlog: 4, somaxconn: 4096, syncookies: 1), .answered)
        // tcp_syncookies=2: cookies always.
        XCTAssertEqual(AcceptQueueModel.synFate(acceptQueue: 0, requests: 0, backlog: 4, somaxconn: 4096, syncookies: 2), .cookie)
    }

    func testTheCompletingAckAtAFullQueue() {
        XCTAssertEqual(AcceptQueueModel.completingAck(acceptQueue: 1, backlog: 1, somaxconn: 4096, abortOnOverflow: 0), .queued)
        XCTAssertEqual(AcceptQueueModel.completingAck(acceptQueue: 2, backlog: 1, somaxconn: 4096, abortOnOverflow: 0), .dropped)
        XCTAssertEqual(AcceptQueueModel.completingAck(acceptQueue: 2, backlog: 1, somaxconn: 4096, abortOnOverflow: 1), .reset)
    }

    func testSynsSentWhileEveryOneIsDropped() {
        // tcp_syn_retries=2, 4 linear timeouts: SYNs at 0, 1, 2, 3, ...; a 2.5 s connect timeout sees three.
        let syn = RetransmissionModel.syn(synRetries: 2, linearTimeouts: 4)
        XCTAssertEqual(AcceptQueueModel.synsSent(syn, within: 2.5), 3)
        // Without linear timeouts: 0, 1, 3: two within 2.5 s.
        XCTAssertEqual(AcceptQueueModel.synsSent(RetransmissionModel.syn(synRetries: 2, linearTimeouts: 0), within: 2.5), 2)
    }
}
