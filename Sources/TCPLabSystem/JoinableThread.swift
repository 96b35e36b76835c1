import CTCPLabShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread that runs one closure and is joined by its creator (no Foundation, no
/// Dispatch: its scheduling policy and network namespace are its own, set on it alone). It
/// starts in the creating thread's network namespace, which clone(2) copies.
public final class JoinableThread {
    private var thread: pthread_t
    private var joined = false

    /// Starts `body` on a new thread; `name` (at most 15 bytes) shows in /proc/PID/task/*/comm.
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemCallError) {
        let context = Unmanaged.passRetained(Body(name: name, body)).toOpaque()
        var created = pthread_t()
        let code = pthread_create(&created, nil, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            _ = tcplab_name_this_thread(body.name)
            body.run()
            return nil
        }, context)
        guard code == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw SystemCallError(Errno(rawValue: code), call: "pthread_create", subject: name)
        }
        thread = created
    }

    /// Waits for the body to return.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }

    deinit { join() }

    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, _ run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }
}
