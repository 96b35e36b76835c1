import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// A private tracefs instance for one run: the TCP tracepoints of one port, on the monotonic
/// clock, read from its trace_pipe without blocking. `remove()` deletes it; one a killed run
/// left behind carries its PID in its name, and `removeStale()` deletes those.
///
/// Tracepoints are global: every namespace's sockets on the port arrive here, and the events
/// carry no namespace. A run filters by port; two runs on one port in different namespaces would
/// see each other's events.
public final class TraceInstance {
    public static let root = "/sys/kernel/tracing"
    static let prefix = "tcplab_"
    public let name: String
    public let port: UInt16
    /// The events this kernel has and accepted a filter for.
    public private(set) var events: [KernelEvent.Name] = []
    public let clock: TraceClockMapping
    private let pipe: FileDescriptor
    private var partial: [UInt8] = []
    /// Reused by every `read()`: it runs on each trace_pipe wakeup.
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    private var removed = false

    public var path: String { "\(Self.root)/instances/\(name)" }
    /// trace_pipe, to wait on with epoll (readable as soon as one event is in: buffer_percent 0).
    public var descriptor: FileDescriptor { pipe }

    /// Makes the instance, mounting tracefs first where it is not (a fresh mount namespace, as
    /// `ip netns exec` makes, has none). Throws `TraceError` with what to do when it cannot.
    public init(port: UInt16, events wanted: [KernelEvent.Name] = KernelEvent.Name.allCases) throws(TraceError) {
        self.port = port
        try Self.mountIfNeeded()
        // What a SIGKILLed run left (a trace instance outlives its process): gone before ours is made.
        Self.removeStale()
        // The PID first (removeStale), the clock to tell two runs of one process apart.
        name = "\(Self.prefix)\(getpid())_\(port)_\(MonotonicClock.now())"
        let path = "\(Self.root)/instances/\(name)"
        guard mkdir(path, 0o700) == 0 else { throw TraceError("mkdir \(path)", errno: errno) }
        do {
            try Self.write("mono", to: "\(path)/trace_clock")
            try Self.write("0", to: "\(path)/buffer_percent")
            for event in wanted {
                let directory = "\(path)/events/\(event.path)"
                guard access(directory, F_OK) == 0 else { continue }  // an older kernel
                let filter = event == .stateChange ? "protocol == 6 && (sport == \(port) || dport == \(port))" : "sport == \(port) || dport == \(port)"
                guard (try? Self.write(filter, to: "\(directory)/filter")) != nil else { continue }
                try Self.write("1", to: "\(directory)/enable")
                events.append(event)
            }
            pipe = try FileDescriptor.open(FilePath("\(path)/trace_pipe"), .readOnly, options: [.nonBlocking, .closeOnExec])
        } catch let error as TraceError {
            rmdir(path)
            throw error
        } catch {
            rmdir(path)
            throw TraceError("open \(path)/trace_pipe", errno: (error as? Errno)?.rawValue ?? EIO)
        }
        clock = .now()
    }

    deinit { remove() }

    /// The events that arrived since the last call (never blocks).
    public func read() -> [KernelEvent] {
        var events: [KernelEvent] = []
        // Bounded: at most 64 reads a call, the rest on the next wakeup.
        for _ in 0..<64 {
            let count = buffer.withUnsafeMutableBytes { raw in (try? pipe.read(into: raw)) ?? 0 }
            if count <= 0 { break }
            partial += buffer[0..<count]
            while let newline = partial.firstIndex(of: 0x0a) {
                let line = String(decoding: partial[..<newline], as: UTF8.self)
                partial.removeSubrange(...newline)
                if let event = TraceLineParser.parse(line[...], port: port, clock: clock) { events.append(event) }
            }
        }
        return events
    }

    /// Closes the pipe and deletes the instance. Safe to call twice.
    public func remove() {
        guard !removed else { return }
        removed = true
        try? pipe.close()
        rmdir(path)
    }

    /// Deletes instances whose run is gone (their PID no longer exists); returns their names.
    @discardableResult
    public static func removeStale() -> [String] {
        guard (try? mountIfNeeded()) != nil, let directory = opendir("\(root)/instances") else { return [] }
        defer { closedir(directory) }
        var stale: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count).prefix { $0.isNumber }),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            if rmdir("\(root)/instances/\(name)") == 0 { stale.append(name) }
        }
        return stale
    }

    static func mountIfNeeded() throws(TraceError) {
        if access("\(root)/instances", F_OK) == 0 { return }
        guard mount("nodev", root, "tracefs", 0, nil) == 0 else {
            throw TraceError("mount -t tracefs nodev \(root) (needs root, CAP_SYS_ADMIN, and a kernel with tracefs)", errno: errno)
        }
    }

    static func write(_ text: String, to path: String) throws(TraceError) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw TraceError("open \(path)", errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8) + [0x0a]
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw TraceError("write '\(text)' to \(path)", errno: errno)
        }
    }
}
/// Why tracepoints cannot be recorded here, in one line.
public struct TraceError: Error, CustomStringConvertible {
    public var description: String
    init(_ call: String, errno: Int32) { description = "\(call): \(String(cString: strerror(errno)))" }
}
