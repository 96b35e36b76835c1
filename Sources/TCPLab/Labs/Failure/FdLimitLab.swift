import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let fdLimit = LabDefinition(
        "fd-limit", family: .failure,
        summary: "The server hits its open-file limit: accept() fails with EMFILE while handshakes still complete into the backlog",
        question: "文件描述符限制：too many open files (the file descriptor limit)"
    ) { ctx in
        throw LabSkip("not built yet")
    }
}
