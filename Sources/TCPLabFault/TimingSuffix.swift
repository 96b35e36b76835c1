/// "DURATION[~JITTER]" after the `=`.
enum TimingSuffix {
    /// The longest wait a queue holds a segment: TCP has long given up by then, and the kernel
    /// holds every queued segment's memory meanwhile.
    static let maximum = FaultDuration.seconds(600)

    static func parse(_ text: String, in spec: String) throws(FaultSpecError) -> (FaultDuration, FaultDuration) {
        if let marker = text.first(where: { ":@%".contains($0) }) {
            let selector = spec.prefix { $0 != "=" }
            throw FaultSpecError("'\(spec)': the count goes before '=', as in \(selector)\(marker)N=DURATION ('\(marker)' after the duration means nothing)")
        }
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
        guard delay.nanoseconds.addingReportingOverflow(jitter.nanoseconds).partialValue <= maximum.nanoseconds, delay <= maximum, jitter <= maximum else {
            throw FaultSpecError("'\(spec)': a segment can be held at most \(maximum) (delay plus jitter)")
        }
        // delay ± jitter is drawn uniformly; a jitter beyond the delay would ask for waits below zero.
        guard jitter <= delay else {
            throw FaultSpecError("'\(spec)': the jitter (\(jitter)) is larger than the delay (\(delay)), so some waits would be below zero; give a jitter of at most \(delay)")
        }
        return (delay, jitter)
    }

    static func describe(_ delay: FaultDuration, _ jitter: FaultDuration) -> String {
        jitter == .zero ? delay.description : "\(delay)~\(jitter)"
    }
}
