/// "DURATION[~JITTER]" after the `=`.
enum TimingSuffix {
    static func parse(_ text: String, in spec: String) throws(FaultSpecError) -> (FaultDuration, FaultDuration) {
        let parts = text.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw FaultSpecError("'\(spec)': expected DURATION or DURATION~JITTER after '=', e.g. 100ms~5ms")
        }
        let delay: FaultDuration
        let jitter: FaultDuration
        do {
            delay = try FaultDuration(parsing: String(parts[0]))
            jitter = parts.count == 2 ? try FaultDuration(parsing: String(parts[1])) : .zero
        } catch {
            throw FaultSpecError("'\(spec)': \(error.description)")
        }
        return (delay, jitter)
    }

    static func describe(_ delay: FaultDuration, _ jitter: FaultDuration) -> String {
        jitter == .zero ? delay.description : "\(delay)~\(jitter)"
    }
}
