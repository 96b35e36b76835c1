import TCPLabNetlink
import TCPLabSystem

/// Reads trace_pipe's text lines, as the events' print formats write them:
///
///     <idle>-0  [001] ..s2.  2579.420138: tcp_retransmit_skb: skbaddr=… sport=50412 dport=7777 saddr=10.77.0.1 daddr=10.77.0.2 saddrv6=… state=TCP_ESTABLISHED
///
/// The timestamp is the instance's trace clock (set to mono) in seconds with µs.
public enum TraceLineParser {
    /// nil for lines of other events or that do not parse (a trace_pipe line may also be a
    /// "LOST n EVENTS" notice).
    /// `port`: the watched server port, which names the sides.
    public static func parse(_ line: Substring, port: UInt16, clock: TraceClockMapping) -> KernelEvent? {
        guard let colon = line.range(of: ": ") else { return nil }
        let head = line[..<colon.lowerBound]
        guard let stampText = head.split(separator: " ").last, let seconds = Double(stampText) else { return nil }
        let rest = line[colon.upperBound...]
        guard let nameEnd = rest.range(of: ": ") else { return nil }
        guard let name = KernelEvent.Name(rawValue: String(rest[..<nameEnd.lowerBound])) else { return nil }
        var fields: [Substring: Substring] = [:]
        for pair in rest[nameEnd.upperBound...].split(separator: " ") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            fields[pair[..<equals]] = pair[pair.index(after: equals)...]
        }
        let ipv6 = fields["family"] == "AF_INET6"
        guard let sport = fields["sport"].flatMap({ UInt16($0) }), let dport = fields["dport"].flatMap({ UInt16($0) }),
              let source = (ipv6 ? fields["saddrv6"] : fields["saddr"]).flatMap({ InetAddress(String($0)) }),
              let destination = (ipv6 ? fields["daddrv6"] : fields["daddr"]).flatMap({ InetAddress(String($0)) }) else { return nil }
        let monotonic = Int64((seconds * 1_000_000).rounded())
        var event = KernelEvent(name: name, monotonicMicroseconds: monotonic, timeUnixMicroseconds: clock.unixMicroseconds(monotonic: monotonic),
                                // A dual-stack socket's IPv4 peer as its packets (and the segment lines) name it.
                                local: InetEndpoint(address: source, port: sport).unmapped,
                                remote: InetEndpoint(address: destination, port: dport).unmapped,
                                side: sport == port ? .server : .client)
        if name == .stateChange {
            event.oldState = fields["oldstate"].flatMap(state)
            event.newState = fields["newstate"].flatMap(state)
        } else {
            event.newState = fields["state"].flatMap(state)
        }
        return event
    }

    /// "TCP_LAST_ACK" → LAST_ACK.
    static func state(_ text: Substring) -> TCPState? {
        let name = text.hasPrefix("TCP_") ? text.dropFirst(4) : text
        let spelled = name == "CLOSE" ? "CLOSED" : name == "NEW_SYN_RECV" ? "SYN_RECV" : String(name)
        return (1...12).map { TCPState(rawValue: UInt8($0)) }.first { $0.description == spelled && $0.rawValue != 12 }
    }
}

/// The trace clock (CLOCK_MONOTONIC) on NFLOG's (CLOCK_REALTIME): the offset between the two,
/// sampled when a run starts and again when it ends (`drift`, what NTP moved the wall clock).
public struct TraceClockMapping: Sendable, Equatable {
    /// realtime − monotonic, µs.
    public var offsetMicroseconds: Int64

    public init(offsetMicroseconds: Int64) { self.offsetMicroseconds = offsetMicroseconds }

    /// Samples both clocks now.
    public static func now() -> TraceClockMapping {
        let monotonic = Int64(MonotonicClock.now() / 1000)
        let real = WallClock.nowMicroseconds()
        return TraceClockMapping(offsetMicroseconds: real - monotonic)
    }

    public func unixMicroseconds(monotonic: Int64) -> Int64 { monotonic + offsetMicroseconds }
}
