import TCPLabRules

extension FaultPlan {
    /// Segments that arrive (from the wire, from loopback, to be forwarded).
    public static let baseChain = "prerouting"
    /// Segments this host sends itself through a real interface (loopback is left to prerouting,
    /// which sees every loopback segment once).
    public static let outputChain = "output"
    /// Where a drop goes: a segment that arrived is dropped; a host's own segment is queued and
    /// then dropped by faultproxy, so its sender's kernel sees loss on the wire (see `loseRules`).
    public static let loseChain = "lose"
    public static let faultChain = "fault"
    public static let emptinessChain = "empty"
    public static let recentSet = "recent"
    /// A second base chain on the same hook, for segments a delay held (see `releaseRules`).
    public static let releaseChain = "release"
    /// The same for a host's own held segments, which resume at the output hook.
    public static let outputReleaseChain = "release_output"
    /// After conntrack (-200): on loopback the ct was attached at OUTPUT and the skb keeps it.
    public static let basePriority: Int32 = -150
    /// Right after the fault chain's hook entry: a queued segment's NF_ACCEPT resumes here.
    public static let releasePriority: Int32 = basePriority + 1
    static let randomModulus: UInt32 = 1_000_000

    /// The whole plan as one nftables table: classification in the kernel (conntrack, `ct mark`
    /// state, a recent-activity set), then one rule per fault occurrence, then state updates.
    public func linearize() throws(FaultSpecError) -> NFTTable {
        try validate()
        var linearizer = FaultLinearizer(plan: self)
        return try linearizer.table()
    }

    /// The state fields the counted faults use (bits 0-7 are ConnectionState's flags).
    public func counterAllocations() throws(FaultSpecError) -> [CounterAllocation] {
        try validate()
        var linearizer = FaultLinearizer(plan: self)
        _ = try linearizer.table()
        return linearizer.layout.allocations
    }
}

/// Builds the table in stages; each stage only appears when a fault needs it.
struct FaultLinearizer {
    let plan: FaultPlan
    /// Classified kinds, closed under what their classification depends on.
    let classified: Set<SegmentKind>
    var layout = CTMarkLayout()
    var rules: [NFTRule] = []

    init(plan: FaultPlan) {
        self.plan = plan
        var kinds = Set(plan.faults.map(\.selector.kind))
        // A probe answer is only recognised after the probe was; fin-ack and last-ack need the peer's FIN.
        if kinds.contains(.keepaliveAck) { kinds.insert(.keepalive) }
        if kinds.contains(.finAck) || kinds.contains(.lastAck) { kinds.insert(.peerFin) }
        self.classified = kinds
    }

    var needsEmptiness: Bool {
        !classified.isDisjoint(with: [.handshakeAck, .finAck, .lastAck, .data, .keepalive, .keepaliveAck, .windowProbe])
    }
    var needsIdle: Bool { classified.contains(.keepalive) }
    var needsFinState: Bool { !classified.isDisjoint(with: [.fin, .peerFin, .finAck, .lastAck]) }
    var needsWindowState: Bool { classified.contains(.keepalive) || classified.contains(.windowProbe) }

    mutating func table() throws(FaultSpecError) -> NFTTable {
        if !plan.duplicates.isEmpty { copyRules(chain: FaultPlan.baseChain) }
        scopeRules(chain: FaultPlan.baseChain, local: false)
        rule(FaultPlan.outputChain, Match.outputToLoopback.expressions + [.verdict(.accept)])
        if !plan.duplicates.isEmpty { copyRules(chain: FaultPlan.outputChain) }
        scopeRules(chain: FaultPlan.outputChain, local: true)
        if needsEmptiness { rule(FaultPlan.faultChain, [.verdict(.jump(FaultPlan.emptinessChain))]) }
        if needsIdle { idleRules() }
        if needsFinState { finStateRules() }
        classificationRules()
        for (index, fault) in plan.faults.enumerated() { try faultRules(fault, index: index) }
        stateUpdateRules()
        exitRules()

        var chains = [
            NFTChain(name: FaultPlan.baseChain, hook: .prerouting, priority: FaultPlan.basePriority),
            NFTChain(name: FaultPlan.outputChain, hook: .output, priority: FaultPlan.basePriority),
            NFTChain(name: FaultPlan.faultChain, hook: nil),
        ]
        if !plan.drops.isEmpty {
            chains.append(NFTChain(name: FaultPlan.loseChain, hook: nil))
            loseRules()
        }
        if needsEmptiness {
            chains.append(NFTChain(name: FaultPlan.emptinessChain, hook: nil))
            emptinessRules()
        }
        if !plan.delays.isEmpty {
            chains.append(NFTChain(name: FaultPlan.releaseChain, hook: .prerouting, priority: FaultPlan.releasePriority))
            chains.append(NFTChain(name: FaultPlan.outputReleaseChain, hook: .output, priority: FaultPlan.releasePriority))
            releaseRules(chain: FaultPlan.releaseChain)
            releaseRules(chain: FaultPlan.outputReleaseChain)
        }
        let sets = (needsIdle ? [NFTSet(name: FaultPlan.recentSet, keyLength: 4, dynamic: true, timeoutMilliseconds: idleMilliseconds)] : [])
            + ConnectionStateSets.declarations(for: rules)
        return NFTTable(family: .inet, name: plan.tableName, owned: true, chains: chains, sets: sets, rules: rules)
    }

    var idleMilliseconds: UInt64 { max(1, plan.keepaliveIdle.nanoseconds / 1_000_000) }

    mutating func rule(_ chain: String, _ expressions: [NFTExpression], comment: String? = nil) {
        rules.append(NFTRule(chain: chain, expressions: expressions, comment: comment))
    }
    mutating func classify(_ match: Match, set bits: UInt32, alsoState: UInt32 = 0) {
        var expressions = match.expressions + Action.setPacketClass(set: bits)
        if alsoState != 0 { expressions += Action.setConnectionState(set: alsoState) }
        rule(FaultPlan.faultChain, expressions)
    }

    // MARK: Scope

    /// Only TCP to or from the port enters the fault chain, its scratch bits cleared, the sender
    /// noted, and whether this host sent it. `goto`, so a self-connection (sport == dport) is
    /// handled once.
    mutating func scopeRules(chain: String, local: Bool) {
        for fromClient in [true, false] {
            let bits = (fromClient ? PacketClass.fromClient : 0) | (local ? PacketClass.local : 0)
            rule(
                chain,
                (Match.tcp + .tcpPort(destination: fromClient, plan.port)).expressions
                    + Action.setPacketClass(clear: PacketClass.scratch, set: bits)
                    + [.verdict(.goto(FaultPlan.faultChain))]
            )
        }
    }

    /// A duplicate's copy, sent from faultproxy's raw socket with `FaultPlan.copyMark`, passes
    /// both hooks like any segment of the port but skips the faults: logged once as it crosses,
    /// never copied or dropped again. The mark survives loopback and is scrubbed by veth, so a
    /// faultproxy on the other host sees an ordinary segment.
    mutating func copyRules(chain: String) {
        let logs = chain == FaultPlan.outputChain || plan.logsArrivals
        taggedRules(chain: chain, tag: FaultPlan.copyMark, log: logs ? .pass : nil, timeline: .copy, then: [.verdict(.accept)])
    }

    /// One rule per direction for this port's segments whose scratch bits hold `tag`: counted and
    /// logged for the timeline (comment "timeline NAME") when there is a log group and a `log`
    /// tag, the tag cleared, then `then`.
    mutating func taggedRules(chain: String, tag: UInt32, log: FaultTag?, timeline name: RuleComment.TimelineRule,
                              then: [NFTExpression] = []) {
        for fromClient in [true, false] {
            var expressions = (Match.tcp + .tcpPort(destination: fromClient, plan.port)
                + .packetClass(PacketClass.scratch, equal: tag)).expressions
            var comment: String?
            if let group = plan.logGroup, let log {
                expressions += [.counter] + Action.stampedLog(group: group, prefix: log.description)
                comment = RuleComment.timeline(name).description
            }
            rule(chain, expressions + Action.setPacketClass(clear: PacketClass.scratch, set: 0) + then, comment: comment)
        }
    }

    /// A segment that arrived is simply dropped: to its sender it was lost on the wire. A host's
    /// own segment must not be: a drop at output (or a qdisc or egress drop) fails the send
    /// locally, and TCP retries without counting a retransmission (every SYN-ACK dropped at
    /// the server's output: 12 SYN-ACKs for tcp_synack_retries=2 instead of 8). Queued to
    /// NFQUEUE the send succeeds; faultproxy's queue reader then gives the drop verdict.
    mutating func loseRules() {
        rule(
            FaultPlan.loseChain,
            Match.packetClass(has: PacketClass.local).expressions
                + Action.setPacketClass(clear: PacketClass.scratch, set: UInt32(FaultPlan.loseTag) << 16)
                + [queueStatement]
        )
        rule(FaultPlan.loseChain, [.verdict(.drop)])
    }

    var queueStatement: NFTExpression {
        plan.nativeQueue ? .queue(number: plan.queueNumber, bypass: true) : .xtQueue(number: plan.queueNumber, bypass: true)
    }

    // MARK: Faults

    /// The kind's own match, narrowed by `--from`.
    func kindMatch(_ kind: SegmentKind) -> Match {
        var classMask: UInt32 = 0
        var classValue: UInt32 = 0
        var flags = Match.none
        switch kind {
        case .syn:
            (classMask, classValue) = (PacketClass.fromClient, PacketClass.fromClient)
            flags = .tcpFlags([.syn, .ack, .rst, .fin], equal: .syn)
        case .synack:
            (classMask, classValue) = (PacketClass.fromClient, 0)
            flags = .tcpFlags([.syn, .ack, .rst], equal: [.syn, .ack])
        case .rst:
            flags = .tcpFlags(.rst, equal: .rst)
        case .data:
            (classMask, classValue) = (PacketClass.empty, 0)
        case .any, .ack:
            break
        default:
            let bit = PacketClass.bit(for: kind)!
            (classMask, classValue) = (bit, bit)
        }
        if let from = plan.from {
            classMask |= PacketClass.fromClient
            classValue |= from == .client ? PacketClass.fromClient : 0
        }
        return classMask == 0 ? flags : flags + .packetClass(classMask, equal: classValue)
    }

    /// One rule per counted occurrence, highest count first: a rule that bumps the count and
    /// lets the segment go on must not be followed by the rule for the next count.
    mutating func faultRules(_ fault: Fault, index: Int) throws(FaultSpecError) {
        let kind = fault.selector.kind
        let match = kindMatch(kind)
        let comment = fault.comment.description
        let owner = "--\(fault.verb) \(fault.selector)"
        switch fault.selector.selection {
        case .all, .probability(1):
            rule(FaultPlan.faultChain, match.expressions + verdict(fault), comment: comment)
        case .first(let count):
            let field = try layout.allocate(maximum: count, for: owner)
            for occurrence in (0..<count).reversed() {
                counted(match, field: field, occurrence: occurrence, hit: true, fault: fault, comment: comment)
            }
        case .only(let position):
            let field = try layout.allocate(maximum: position, for: owner)
            for occurrence in (0..<position).reversed() {
                counted(match, field: field, occurrence: occurrence, hit: occurrence == position - 1, fault: fault, comment: comment)
            }
        case .probability(let probability):
            let threshold = UInt32((probability * Double(FaultPlan.randomModulus)).rounded())
            let random = Match.random(below: threshold, modulus: FaultPlan.randomModulus)
            guard let seed = plan.seed else {
                rule(FaultPlan.faultChain, (match + random).expressions + verdict(fault), comment: comment)
                return
            }
            // The first occurrences follow the seed's pattern; later ones are random again.
            let field = try layout.allocate(maximum: SeededPattern.length, for: owner)
            let pattern = SeededPattern(seed: seed, salt: UInt64(index), probability: probability)
            rule(
                FaultPlan.faultChain,
                (match + .connectionState(field.mask, equal: field.value(field.maximum), key: countKey(fault)) + random).expressions + verdict(fault),
                comment: comment
            )
            for occurrence in (0..<SeededPattern.length).reversed() {
                counted(match, field: field, occurrence: occurrence, hit: pattern.drops[occurrence], fault: fault, comment: comment)
            }
        }
    }

    /// "kind && field == occurrence": set the field to occurrence + 1, then fault or go on.
    mutating func counted(_ match: Match, field: CounterField, occurrence: Int, hit: Bool, fault: Fault, comment: String) {
        let key = countKey(fault)
        var expressions = (match + .connectionState(field.mask, equal: field.value(occurrence), key: key)).expressions
        if hit {
            expressions += [.counter] + Action.setConnectionState(clear: field.mask, set: field.value(occurrence + 1), key: key) + verdict(fault, counted: false)
            rule(FaultPlan.faultChain, expressions, comment: comment)
        } else {
            expressions += Action.setConnectionState(clear: field.mask, set: field.value(occurrence + 1), key: key)
            rule(FaultPlan.faultChain, expressions)
        }
    }

    /// SYNs are counted per connection attempt: a dropped first SYN takes its unconfirmed
    /// conntrack entry with it (see ConnectionStateSets).
    func countKey(_ fault: Fault) -> ConnectionStateSets.Key { fault.selector.kind == .syn ? .attempt : .connection }

    /// counter, log, then drop or queue (a queued segment leaves tagged with its fault).
    func verdict(_ fault: Fault, counted: Bool = true) -> [NFTExpression] {
        var expressions: [NFTExpression] = counted ? [.counter] : []
        if let group = plan.logGroup {
            expressions += Action.stampedLog(group: group, prefix: fault.tag.description)
        }
        guard let tag = fault.queueTag else { return expressions + [.verdict(.goto(FaultPlan.loseChain))] }
        expressions += Action.setPacketClass(clear: PacketClass.scratch, set: UInt32(tag) << 16)
        expressions.append(queueStatement)
        return expressions
    }

    // MARK: After the faults: what the segment that passed tells about the connection

    mutating func stateUpdateRules() {
        if classified.contains(.handshakeAck) {
            rule(
                FaultPlan.faultChain,
                (Match.packetClass(has: PacketClass.fromClient) + .tcpFlags([.syn, .ack], equal: .ack)
                    + .connectionState(ConnectionState.handshakeDone, equal: 0)).expressions
                    + Action.setConnectionState(set: ConnectionState.handshakeDone)
            )
        }
        if classified.contains(.keepaliveAck) {
            for reply in [false, true] {
                rule(
                    FaultPlan.faultChain,
                    (Match.packetClass(has: PacketClass.bit(for: .keepalive)!) + .ctDirection(reply: reply)).expressions
                        + Action.setConnectionState(set: ConnectionState.probePending | (reply ? ConnectionState.probeReply : 0))
                )
            }
        }
        if needsWindowState {
            // The window a passing ACK advertises; RST and SYN carry no meaningful one.
            for reply in [false, true] {
                let bit = reply ? ConnectionState.zeroWindowReply : ConnectionState.zeroWindowOriginal
                let ackOnly = Match.tcpFlags([.syn, .rst, .ack], equal: .ack) + .ctDirection(reply: reply)
                rule(FaultPlan.faultChain, (ackOnly + .tcpWindowZero(true) + .connectionState(bit, equal: 0)).expressions + Action.setConnectionState(set: bit))
                rule(FaultPlan.faultChain, (ackOnly + .tcpWindowZero(false) + .connectionState(bit, equal: bit)).expressions + Action.setConnectionState(clear: bit, set: 0))
            }
        }
    }

    // MARK: The release of a held segment

    /// A delayed segment's NF_ACCEPT does not come back to the rule after its queue verdict: the
    /// kernel's nf_reinject resumes at the hook's NEXT entry, i.e. the next base chain by
    /// priority. So the release is seen by a second base chain, one priority step later. The
    /// queue reader answers a delay's segment with its tag still in `meta mark` bits 16-31 (a
    /// duplicate's, or an untagged one, with them clear), so only held segments match here, and
    /// only on this port: another table's tags are not ours. The rule logs the release (stamped with the
    /// rule's `meta time`: NFLOG's own timestamp is the skb's receive stamp where it has one,
    /// which for a held segment is its arrival) and clears the scratch bits, as the fault chain's exit does.
    mutating func releaseRules(chain: String) {
        for fault in plan.queuedFaults {
            guard case .delay = fault.action else { continue }
            var release = fault.faultTag
            release.action = .release
            taggedRules(chain: chain, tag: fault.markBits, log: release, timeline: .release)
        }
    }

    /// The segments that passed every fault are logged (without `logsArrivals`, only this
    /// host's own: the watch's packet ring has the arrivals).
    mutating func exitRules() {
        if let group = plan.logGroup {
            let only = plan.logsArrivals ? [] : Match.packetClass(has: PacketClass.local).expressions
            rule(FaultPlan.faultChain, only + [.counter] + Action.stampedLog(group: group, prefix: FaultTag.pass.description),
                 comment: RuleComment.timeline(.pass).description)
        }
        rule(FaultPlan.faultChain, Action.setPacketClass(clear: PacketClass.scratch, set: 0))
    }
}
