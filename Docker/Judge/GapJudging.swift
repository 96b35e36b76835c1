import TCPLabModel

/// The labs' timers judged from faultproxy's pcap (kernel timestamps) the way the in-process labs
/// judge them: each event from the one that armed its timer (`TimingTolerance.judgeSchedule`,
/// `ListenerSynAckReplay`), not cumulatively from connect().
extension LabJudge {
    /// The segments of faultproxy's pcap, or nil after a failed row that says why.
    func wire(_ verdict: inout Verdict) -> [WireSegment]? {
        let path = results.file("faultproxy.pcap")
        do {
            return try PcapSegments.read(path: path)
        } catch {
            verdict.add("faultproxy's pcap (\(path))", predicted: "the lab's segments", observed: "\(error)", passed: false)
            return nil
        }
    }

    /// The client's SYNs: each retransmission one timeout after the SYN before it, and connect()'s
    /// ETIMEDOUT one more after the last (the client times connect() from its call, which sends the
    /// first SYN). Returns the SYNs' offsets from the first.
    @discardableResult
    func judgeSynSchedule(_ verdict: inout Verdict, _ wire: [WireSegment], client: ClientReport) -> [Double] {
        let schedule = synSchedule
        let syns = wire.filter { $0.destinationPort == port && $0.syn && !$0.ack }
        verdict.add("client SYNs (pcap)", predicted: String(schedule.transmissions), observed: String(syns.count),
                    passed: syns.count == schedule.transmissions)
        guard let first = syns.first else { return [] }
        let offsets = syns.map { $0.time - first.time }
        for judgement in tolerance.judgeSchedule("client SYN", transmissions: offsets, schedule: schedule) {
            verdict.add(judgement)
        }
        let last = schedule.timeouts.last ?? RetransmissionModel.initialRTO
        verdict.add(tolerance.judge("connect() returns ETIMEDOUT (\(TimingTolerance.format(last)) s after the last SYN)",
                                    after: offsets.count == schedule.transmissions ? offsets.last : nil, timer: last,
                                    observed: client.connectSeconds))
        return offsets
    }

    /// The listener's request timer: each SYN-ACK it sent judged from the SYN-ACK before it in the
    /// same request (SYN-ACKs that answer a repeated SYN re-arm it; `ListenerSynAckReplay`).
    func judgeRequestTimer(_ verdict: inout Verdict, _ wire: [WireSegment]) {
        guard let origin = wire.first(where: { $0.destinationPort == port && $0.syn && !$0.ack })?.time else { return }
        let segments = wire.compactMap { segment -> ListenerSynAckReplay.Segment? in
            guard segment.syn else { return nil }
            if segment.destinationPort == port, !segment.ack { return .syn(at: segment.time - origin) }
            if segment.sourcePort == port, segment.ack { return .synAck(at: segment.time - origin, sequence: segment.sequence) }
            return nil
        }
        let kernel = parameters.kernel
        let replay = ListenerSynAckReplay.replay(segments, maximumRTO: kernel.rtoMax)
        let retries = kernel.synackRetries
        verdict.add("request-timer SYN-ACKs per request (tcp_synack_retries, cut short by the client's give-up)",
                    predicted: "≤ \(retries) each", observed: replay.timerSynAcksPerRequest.map(String.init).joined(separator: ", "),
                    passed: !replay.timerSynAcksPerRequest.isEmpty && replay.timerSynAcksPerRequest.allSatisfy { $0 <= retries })
        for event in replay.timerSynAcks {
            verdict.add(tolerance.judge("request \(event.request + 1): SYN-ACK from its timer (expiry \(event.expiry), "
                                        + "\(TimingTolerance.format(event.timer)) s after the SYN-ACK before it)",
                                        after: event.anchor, timer: event.timer, observed: event.observed))
        }
    }

    /// Keepalive: the first probe `idle` after the last segment the server received, each next
    /// one `interval` after the probe before it, and the RST `interval` after the last. Offsets
    /// count from that last segment (or the first probe, when there was none).
    func judgeKeepalive(_ verdict: inout Verdict, _ wire: [WireSegment], idle: Double, interval: Double, count: Int) {
        let probes = KeepaliveProbes(wire, serverPort: port)
        verdict.add("keepalive probes from the server (pcap)", predicted: String(count), observed: String(probes.probes.count),
                    passed: probes.probes.count == count)
        guard let first = probes.probes.first else { return }
        let origin = probes.lastFromClient?.time ?? first.time
        let times = probes.probes.map { $0.time - origin }
        verdict.add(tolerance.judge("keepalive probe 1 (\(TimingTolerance.format(idle)) s after the last segment from the client)",
                                    after: probes.lastFromClient.map { _ in 0 }, timer: idle, observed: times[0]))
        for index in 1..<max(1, count) {
            verdict.add(tolerance.judge("keepalive probe \(index + 1) (\(TimingTolerance.format(interval)) s after probe \(index))",
                                        after: index - 1 < times.count ? times[index - 1] : nil, timer: interval,
                                        observed: index < times.count ? times[index] : nil))
        }
        verdict.add(tolerance.judge("server resets the connection (\(TimingTolerance.format(interval)) s after the last probe)",
                                    after: times.count == count ? times.last : nil, timer: interval,
                                    observed: probes.reset.map { $0.time - origin }))
    }
}

/// A server's keepalive probes in a capture: a bare ACK one below the next sequence number it
/// would send (tcp_write_wakeup → tcp_xmit_probe_skb with snd_una − 1), after the client's last
/// segment; and the RST that ends the probing.
struct KeepaliveProbes {
    var probes: [WireSegment] = []
    var lastFromClient: WireSegment?
    var reset: WireSegment?

    init(_ wire: [WireSegment], serverPort: UInt16) {
        var next: UInt32?
        for segment in wire {
            if segment.destinationPort == serverPort {
                if probes.isEmpty { lastFromClient = segment }
                continue
            }
            guard segment.sourcePort == serverPort else { continue }
            if segment.rst {
                if reset == nil, !probes.isEmpty { reset = segment }
                continue
            }
            if let expected = next, segment.ack, !segment.syn, !segment.fin, segment.payloadLength == 0,
               segment.sequence == expected &- 1 {
                probes.append(segment)
                continue
            }
            let length = UInt32(segment.payloadLength) + (segment.syn ? 1 : 0) + (segment.fin ? 1 : 0)
            next = segment.sequence &+ length
        }
    }
}
