import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// A program the benchmark starts itself with posix_spawn, so the time from spawn to a line on its
/// stderr can be measured to the microsecond (Foundation's Process adds its own setup and polling).
/// stdout goes to /dev/null; stderr to a pipe when `watchError` is set, else to /dev/null.
final class ChildProcess {
    let pid: pid_t
    let arguments: [String]
    private var errorPipe: Int32?
    private(set) var errorText = ""
    private var status: Int32?

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    init(_ arguments: [String], watchError: Bool = true) throws {
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var pipeEnds: [Int32] = [-1, -1]
        if watchError {
            guard pipe(&pipeEnds) == 0 else {
                throw SystemCallError(Errno(rawValue: errno), call: "pipe")
            }
            // Close-on-exec, so the write end reaches only this child (as its stderr, through dup2).
            for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawnp(&child, arguments[0], &actions, nil, argv, environ)
        if watchError { close(pipeEnds[1]) }
        guard result == 0 else {
            if watchError { close(pipeEnds[0]) }
            throw SpawnError(description: "\(arguments[0]): \(String(cString: strerror(result)))")
        }
        pid = child
        errorPipe = watchError ? pipeEnds[0] : nil
    }

    deinit {
        stop()
        if let errorPipe { close(errorPipe) }
    }

    /// Reads stderr until it contains `text` (true), the program closes stderr or exits, or `timeoutSeconds` pass.
    func waitForError(containing text: String, timeoutSeconds: Double) -> Bool {
        guard let errorPipe else { return false }
        let deadline = MonotonicClock.now() + UInt64(timeoutSeconds * 1e9)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !errorText.contains(text) {
            let now = MonotonicClock.now()
            guard now < deadline else { return false }
            let timeout = Int32(min((deadline - now) / 1_000_000 + 1, 1000))
            guard let ready = try? Poll.wait(errorPipe, for: .readable, timeoutMilliseconds: timeout) else { return false }
            guard !ready.isEmpty else { continue }
            let count = read(errorPipe, &buffer, buffer.count)
            if count <= 0 { return errorText.contains(text) }
            errorText += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        return true
    }

    /// Waits for the exit at most `timeoutSeconds`; the exit status (128+signal when killed), or nil.
    @discardableResult
    func wait(timeoutSeconds: Double) -> Int32? {
        if let status { return status }
        let deadline = MonotonicClock.now() + UInt64(timeoutSeconds * 1e9)
        repeat {
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                let signal = raw & 0x7f
                status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
                return status
            }
            if result < 0 { status = -1; return status }
            MonotonicClock.sleep(nanoseconds: 200_000)
        } while MonotonicClock.now() < deadline
        return nil
    }

    var hasExited: Bool { wait(timeoutSeconds: 0) != nil }

    func signal(_ number: Int32) {
        if status == nil { kill(pid, number) }
    }

    /// SIGTERM, up to `grace` seconds, then SIGKILL.
    func stop(grace: Double = 3) {
        guard status == nil else { return }
        signal(SIGTERM)
        if wait(timeoutSeconds: grace) == nil {
            signal(SIGKILL)
            wait(timeoutSeconds: 5)
        }
    }

    /// Runs to completion and returns (status, wall milliseconds); kills it after `timeoutSeconds`.
    static func run(_ arguments: [String], timeoutSeconds: Double = 30) throws -> (status: Int32, milliseconds: Double) {
        let start = MonotonicClock.now()
        let child = try ChildProcess(arguments, watchError: false)
        guard let status = child.wait(timeoutSeconds: timeoutSeconds) else {
            child.stop(grace: 0.5)
            throw SpawnError(description: "\(arguments.joined(separator: " ")): still running after \(timeoutSeconds) s")
        }
        return (status, MonotonicClock.millisecondsSince(start))
    }
}
