import TCPLab
import TCPLabTesting
import Testing

@Test(.tcpLab())
func connectTimeoutFiresAfterTheSecondLostSynAck() throws {
    let lab = try #require(Lab.current)
    try lab.echoServer()
    let fault = try lab.fault(.drop(.synack))
    try lab.echoClient(["--connect-timeout", "1.5s"]).expectFailed("ETIMEDOUT", after: 1.5)
    fault.stop().expectDropped(.synack, count: 3, before: 1.5)
}
