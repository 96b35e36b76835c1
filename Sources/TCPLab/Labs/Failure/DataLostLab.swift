import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let dataLost = LabDefinition(
        "data-lost", family: .failure,
        summary: "One data segment lost: RTO (or tail loss probe) for a lone segment, fast retransmit with SACK in a stream",
        question: "TCP 重传机制：超时重传、快速重传 (retransmission: timeout and fast retransmit)"
    ) { ctx in
        throw LabSkip("not built yet")
    }
}
