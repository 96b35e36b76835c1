import CTCPLabShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// setns(2) into a named network namespace (`ip netns add NAME` keeps it at /run/netns/NAME).
public enum NetworkNamespace {
    /// Moves the calling thread into the namespace. Only this thread moves: threads started
    /// later from it inherit the namespace, threads that already exist do not. Sockets stay in
    /// the namespace they were created in, so call this before opening any.
    public static func enter(named name: String) throws(SystemCallError) {
        try enter(.named(name))
    }

    /// The same for any reference: a name, a namespace file's path, or a process's namespace.
    public static func enter(_ reference: NamespaceReference) throws(SystemCallError) {
        let path = reference.filePath
        let fd = try retryingEINTR("open", subject: "\(path) (\(reference.hint))") {
            open(path, O_RDONLY | O_CLOEXEC)
        }
        defer { _ = close(fd) }
        _ = try retryingEINTR("setns", subject: "network namespace \(reference)") { tcplab_setns_net(fd) }
    }

    /// Runs `body` on this thread inside another namespace, then returns to the one the thread
    /// was in. Sockets `body` opens stay in `reference`'s namespace: that is how one process
    /// watches several (sock_diag answers for its socket's namespace only).
    public static func withEntered<T>(_ reference: NamespaceReference, _ body: () throws -> T) throws -> T {
        let home = try retryingEINTR("open", subject: "/proc/thread-self/ns/net") { open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) }
        defer { _ = close(home) }
        try enter(reference)
        defer { _ = tcplab_setns_net(home) }
        return try body()
    }

    /// Whether the process may administer networking: CAP_NET_ADMIN in its effective set.
    public static func hasNetAdminCapability() -> Bool {
        // /proc/self/status: "CapEff:\t000001ffffffffff"; CAP_NET_ADMIN is bit 12.
        guard let file = fopen("/proc/self/status", "r") else { return geteuid() == 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("CapEff:") {
                let hex = text.dropFirst("CapEff:".count).filter { !$0.isWhitespace }
                return (UInt64(hex, radix: 16) ?? 0) & (1 << 12) != 0
            }
        }
        return geteuid() == 0
    }
}
