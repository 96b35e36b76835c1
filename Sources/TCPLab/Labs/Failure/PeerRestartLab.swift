import Foundation
import TCPLabFault
import TCPLabSystem

extension FailureLabs {
    static let peerRestart = LabDefinition(
        "peer-restart", family: .failure,
        summary: "The server's host lost its state and comes back: the client's next segment draws RST (ECONNRESET)",
        question: "服务端设备断电重启了，之前与客户端建立的连接就消失了，于是在收到客户端的数据包的时候就会发送 RST"
    ) { ctx in
        throw LabSkip("not built yet")
    }
}
