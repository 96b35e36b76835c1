import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let serverDeadRetransmit = LabDefinition(
        "server-dead-retransmit", family: .failure,
        summary: "The server's host vanishes while the client sends: RTO backoff until tcp_retries2 gives ETIMEDOUT",
        question: "如果已经建立了连接，但是服务端突然出现故障了怎么办？(the server fails after the connection is up)"
    ) { ctx in
        throw LabSkip("not built yet")
    }
}
