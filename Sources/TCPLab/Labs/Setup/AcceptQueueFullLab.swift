import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
    static let acceptQueueFull = LabDefinition(
        "accept-queue-full", family: .setup,
        summary: "Full accept queue: the final ACK is dropped and SYN-ACK retransmitted (tcp_abort_on_overflow=0), or RST (=1)",
        question: "半连接队列和全连接队列：全连接队列满了会怎样？(a full accept queue)"
    ) { ctx in
        throw LabSkip("not built yet: the second client's request never showed a SYN-ACK retransmission in the timeline, so the overflow choreography (backlog 0, first ACK lost) needs more work")
    }
}
