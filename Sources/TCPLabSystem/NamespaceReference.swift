/// Which network namespace to enter, as `--netns` takes it: a name `ip netns add` made
/// (/run/netns/NAME), a path to a namespace file (/proc/PID/ns/net, a bind mount), or `pid:N`
/// for the namespace process N is in (a container's: `docker inspect -f '{{.State.Pid}}'`).
public enum NamespaceReference: Hashable, Sendable, CustomStringConvertible {
    case named(String)
    case path(String)
    case process(Int32)

    /// Reads NAME, /PATH or pid:N; a one-line error for anything else.
    public init(parsing text: String) throws(NamespaceReferenceError) {
        if text.hasPrefix("pid:") {
            guard let pid = Int32(text.dropFirst(4)), pid > 0 else {
                throw NamespaceReferenceError("'\(text)': pid:N needs a process id, e.g. pid:1234")
            }
            self = .process(pid)
        } else if text.hasPrefix("/") {
            self = .path(text)
        } else {
            guard !text.isEmpty, !text.contains("/") else {
                throw NamespaceReferenceError("'\(text)': give a namespace name (ip netns list), an absolute path or pid:N")
            }
            self = .named(text)
        }
    }

    /// The file setns(2) opens.
    public var filePath: String {
        switch self {
        case .named(let name): "/run/netns/\(name)"
        case .path(let path): path
        case .process(let pid): "/proc/\(pid)/ns/net"
        }
    }

    /// What to check when the file cannot be opened.
    var hint: String {
        switch self {
        case .named(let name): "is there a namespace '\(name)'? see `ip netns list`"
        case .path: "is it a network namespace file, e.g. /proc/PID/ns/net?"
        case .process(let pid): "is process \(pid) running?"
        }
    }

    public var description: String {
        switch self {
        case .named(let name): name
        case .path(let path): path
        case .process(let pid): "pid:\(pid)"
        }
    }
}

public struct NamespaceReferenceError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
