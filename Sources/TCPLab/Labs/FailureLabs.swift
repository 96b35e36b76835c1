import Foundation
import TCPLabFault
import TCPLabSystem

/// Failures after the connection is up: dead peers, lost data, closed windows, limits.
enum FailureLabs {
    static let all: [LabDefinition] = []
}
