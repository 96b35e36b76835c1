import Foundation
import TCPLabFault
import TCPLabSystem

/// Connection tear-down: the four segments of a close and what each lost one does.
enum TeardownLabs {
    static let all: [LabDefinition] = []
}
