import Foundation

/// A thread for one side of a measurement (a sink, an echo loop, a traffic generator), joined
/// with a bound so a stuck peer cannot hang the suite.
final class BackgroundThread: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [finished] in
            body()
            finished.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Whether the thread ended within `seconds`.
    @discardableResult
    func join(timeoutSeconds seconds: Double) -> Bool {
        finished.wait(timeout: .now() + seconds) == .success
    }
}

/// A value one thread produces and another reads after joining it.
final class SharedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
