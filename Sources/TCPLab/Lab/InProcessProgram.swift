import Foundation
import TCPLabSystem

/// A lab peer run on a thread of this process instead of a program of its own: the thread enters
/// the lab's namespace (setns is per thread), writes what the program would print through
/// `output`, and stops when `stop` is signalled.
final class InProcessProgram: @unchecked Sendable {
    /// What `requestStop()` makes readable: the peer's event loop watches it as a program watches its signals.
    let stop: EventFD
    /// Appends text to the program's stdout (false) or stderr (true).
    var output: @Sendable (String, Bool) -> Void = { _, _ in }
    private let condition = NSCondition()
    private var status: Int32?

    init() throws { stop = try EventFD() }

    func start(name: String, _ body: @escaping @Sendable () throws -> Int32) {
        let thread = Thread { [self] in
            let result: Int32
            do {
                result = try body()
            } catch {
                output("\(name): \(error)\n", true)
                result = 1
            }
            condition.withLock {
                status = result
                condition.broadcast()
            }
        }
        thread.name = "tcplab \(name)"
        thread.start()
    }

    func write(_ line: String) { output(line + "\n", false) }
    func writeError(_ line: String) { output(line + "\n", true) }

    func requestStop() { stop.signal() }

    var isRunning: Bool { condition.withLock { status == nil } }

    /// The exit status once the body returned, or nil if it is still running after `timeout`.
    func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while status == nil, condition.wait(until: deadline) {}
            return status
        }
    }
}
