/// How many segments of each kind the kernel dropped (faultproxy's `{"dropped":{"synack":2}}`
/// line at exit), summed from the drop rules' counters (TCPLabProxy's `init(counters:plan:)`).
public struct DropReport: Codable, Sendable, Equatable {
    /// Kind name ("synack") → segments dropped.
    public var dropped: [String: UInt64]

    public init(dropped: [String: UInt64]) { self.dropped = dropped }

    public var summary: String {
        guard !dropped.isEmpty else { return "nothing was dropped" }
        return "dropped " + dropped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }
}
