import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let zeroWindow = LabDefinition(
        "zero-window", family: .failure,
        summary: "The receiver stops reading: the window closes and the persist timer probes with backoff",
        question: "滑动窗口、流量控制：窗口为 0 时会发生什么？(flow control: a zero window)"
    ) { ctx in
        throw LabSkip("not built yet")
    }
}
