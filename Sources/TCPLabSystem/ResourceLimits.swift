public enum ResourceLimits {
    /// Raises the soft open-file limit to the hard limit (a server holding thousands of connections
    /// needs more than the usual 1024) and returns the new soft limit.
    @discardableResult
    public static func raiseOpenFileLimit() -> UInt64 {
        guard let limit = try? OpenFileLimit.current() else { return 0 }
        return (try? OpenFileLimit.raiseSoft(to: limit.hard)) ?? limit.soft
    }
}
