import CNetfilter
import Synchronization
import SystemPackage
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Talks nf_tables over one netlink socket that lives as long as the client. Tables installed
/// with `owned: true` belong to that socket: the kernel deletes them when the client is
/// deinitialised or the process dies, so a crashed lab leaves no rules behind.
///
/// The socket (and so every table it makes) belongs to the network namespace of the thread
/// that called `init`. Calls are serialised; the client can be shared between threads.
public final class NFTablesClient: @unchecked Sendable {
    private let socket: NetlinkSocket
    private let lock = Mutex(())
    /// How long to wait for the kernel's answer to a request.
    public let replyTimeoutMilliseconds: Int32

    public init(replyTimeoutMilliseconds: Int32 = 5_000) throws(NFTablesError) {
        self.replyTimeoutMilliseconds = replyTimeoutMilliseconds
        do {
            socket = try NetlinkSocket(.netfilter)
        } catch {
            if error.errno == .protocolNotSupported {
                throw .kernelLacksNFTables(errno: error.errno, detail: "netlink NETLINK_NETFILTER socket")
            }
            throw .system(error)
        }
    }

    /// The port id the kernel reports as the owner of this client's owned tables.
    public var portID: UInt32 { socket.portID }

    // MARK: - Install

    /// Sends the whole table (table, chains, sets with their elements, rules) as one
    /// transaction: either all of it is in the kernel afterwards or none of it is.
    /// - Parameter replacingExisting: delete a table of the same name in the same transaction
    ///   first (an owned table can only be replaced by its owner); otherwise an existing table
    ///   is refused with EEXIST.
    public func install(_ table: NFTTable, replacingExisting: Bool = false) throws(NFTablesError) {
        try lock.withLock { (_: inout ()) throws(NFTablesError) in
            let count = NFTBatch.messageCount(installing: table, replacingExisting: replacingExisting)
            let batch = try NFTBatch.installing(table, replacingExisting: replacingExisting,
                                                firstSequence: socket.reserveSequence(NFTBatch.sequenceCount(messages: count)))
            try commit(batch, explainingWith: table)
        }
    }

    /// Deletes a table and everything in it. ENOENT when there is none; EPERM when another
    /// socket owns it.
    public func deleteTable(family: NFTTable.Family, name: String) throws(NFTablesError) {
        try lock.withLock { (_: inout ()) throws(NFTablesError) in
            var batch = NFTBatch(firstSequence: socket.reserveSequence(NFTBatch.sequenceCount(messages: 1)))
            let table = try LibnftnlTable.make(name: name, family: family)
            try batch.add(NFTMessageType.deleteTable, family: family.rawValue, flags: 0,
                          object: .deleteTable(family: family, name: name)) { table.buildPayload(into: $0) }
            try batch.end()
            try commit(batch, explainingWith: nil)
        }
    }

    // MARK: - Dumps

    /// Every table in this socket's namespace (or only those of `family`).
    public func listTables(family: NFTTable.Family? = nil) throws(NFTablesError) -> [NFTTableInfo] {
        var tables: [NFTTableInfo] = []
        try dump(NFTMessageType.getTable, family: family?.rawValue ?? 0, payload: nil) { (message) throws(NFTablesError) in
            tables.append(try LibnftnlTable.parsing(message.header).info)
        }
        return tables
    }

    /// The rules of one table as the kernel holds them, in the IR (with counters zeroed away).
    public func rules(family: NFTTable.Family = .inet, table: String) throws(NFTablesError) -> [NFTRule] {
        var rules: [NFTRule] = []
        try dumpRules(family: family, table: table) { (rule: borrowing LibnftnlRule) throws(NFTablesError) in
            rules.append(try rule.decoded())
        }
        return rules
    }

    /// Packets and bytes of each rule in `table` that has a counter, with its chain and comment.
    public func ruleCounters(family: NFTTable.Family = .inet, table: String) throws(NFTablesError) -> [NFTRuleCounter] {
        var counters: [NFTRuleCounter] = []
        try dumpRules(family: family, table: table) { (rule: borrowing LibnftnlRule) throws(NFTablesError) in
            guard let counter = rule.firstCounter else { return }
            counters.append(NFTRuleCounter(chain: rule.chain ?? "", comment: rule.comment, handle: rule.handle ?? 0,
                                           packets: counter.packets, bytes: counter.bytes))
        }
        return counters
    }

    // MARK: - Probes

    /// Whether this kernel has the native `queue` expression: installs a throwaway owned table
    /// with a `queue` rule in a regular chain (no hook, so no packet ever reaches it) and
    /// removes it. Kernels without it refuse the rule with ENOENT.
    public func supportsNativeQueue() throws(NFTablesError) -> Bool {
        if let known = Self.nativeQueue.withLock({ $0 }) { return known }
        let supported = try probeNativeQueue()
        Self.nativeQueue.withLock { $0 = supported }
        return supported
    }

    /// The probe's answer, once per process: the kernel's expressions are not per namespace, and
    /// the probe costs a refused batch (~23 ms here) while a lab run makes many sessions.
    private static let nativeQueue = Mutex<Bool?>(nil)

    private func probeNativeQueue() throws(NFTablesError) -> Bool {
        let name = "tcplab-probe-queue-\(getpid())"
        let probe = NFTTable(family: .inet, name: name, owned: true,
                             chains: [NFTChain(name: "probe", hook: nil)],
                             rules: [NFTRule(chain: "probe", expressions: [.queue(number: 0, bypass: true)])])
        do {
            try install(probe)
        } catch let error {
            if case .refused(.rule, let errno, _) = error, errno == .noSuchFileOrDirectory || errno == .notSupported {
                return false
            }
            throw error
        }
        try deleteTable(family: .inet, name: name)
        return true
    }

    // MARK: - Transport

    /// Sends the batch and reads every answer. Replies are walked message by message (one
    /// datagram can hold many ACKs) and matched by sequence number; the first error in batch
    /// order is reported, blamed on the object its message carried.
    private func commit(_ batch: borrowing NFTBatch, explainingWith table: NFTTable?) throws(NFTablesError) {
        try send(batch.bytes, what: "nftables batch")
        var pending = Set(batch.messages.map(\.sequence))
        var failures: [UInt32: Errno] = [:]
        try receiveReplies(until: { pending.isEmpty }) { message in
            guard let code = message.errorCode else { return }
            if message.sequence == batch.beginSequence {
                // An error here refuses the whole batch before any message in it is looked at
                // (no CAP_NET_ADMIN, no nf_tables); a 0 is the begin message's own ACK.
                guard code != 0 else { return }
                failures[message.sequence] = Errno(rawValue: code)
                pending.removeAll()
            } else if pending.remove(message.sequence) != nil, code != 0 {
                failures[message.sequence] = Errno(rawValue: code)
            }
        } onTimeout: { () throws(NFTablesError) in
            throw .noAnswer(missing: pending.sorted().compactMap { batch.object(for: $0) })
        }
        guard let (sequence, errno) = failures.min(by: { $0.key < $1.key }) else { return }
        let object = batch.object(for: sequence) ?? .batch
        throw NFTablesErrorExplainer(table: table).error(for: object, errno: errno)
    }

    /// Runs one dump request and hands every data message to `each`. A dump the kernel marks
    /// as interrupted (the ruleset changed meanwhile) is restarted, a bounded number of times.
    private func dump(
        _ type: UInt16, family: UInt8,
        payload: ((UnsafeMutablePointer<nlmsghdr>) -> Void)?,
        each: (NetlinkDatagram.Message) throws(NFTablesError) -> Void
    ) throws(NFTablesError) {
        try lock.withLock { (_: inout ()) throws(NFTablesError) in
            for _ in 0..<5 {
                let request = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
                defer { request.deallocate() }
                request.initializeMemory(as: UInt8.self, repeating: 0)
                let sequence = socket.reserveSequence()
                let header = nftnl_nlmsg_build_hdr(request.baseAddress!.assumingMemoryBound(to: CChar.self), type,
                                                   UInt16(family), NetlinkFlag.dump, sequence)!
                payload?(header)
                try send(UnsafeRawBufferPointer(start: header, count: Int(header.pointee.nlmsg_len)), what: "nftables dump")
                var finished = false
                var interrupted = false
                var failure: Errno?
                try receiveReplies(until: { finished }) { (message) throws(NFTablesError) in
                    guard message.sequence == sequence else { return }
                    if message.dumpWasInterrupted { interrupted = true }
                    if message.isDone {
                        finished = true
                    } else if let code = message.errorCode {
                        if code != 0 { failure = Errno(rawValue: code) }
                        finished = true
                    } else if failure == nil && !interrupted {
                        try each(message)
                    }
                } onTimeout: { () throws(NFTablesError) in
                    throw .noAnswer(missing: [.batch])
                }
                if let failure {
                    if failure == .notPermitted { throw .needsCapNetAdmin(call: "nftables dump") }
                    throw .system(SystemCallError(failure, call: "nftables dump"))
                }
                if !interrupted { return }
            }
            throw .system(SystemCallError(.resourceTemporarilyUnavailable, call: "nftables dump",
                                          subject: "interrupted five times by ruleset changes"))
        }
    }

    private func dumpRules(
        family: NFTTable.Family, table: String,
        each: (borrowing LibnftnlRule) throws(NFTablesError) -> Void
    ) throws(NFTablesError) {
        // The kernel filters a rule dump by the table named in the request.
        let filter = try LibnftnlRule()
        _ = nftnl_rule_set_str(filter.pointer, RuleAttribute.table, table)
        nftnl_rule_set_u32(filter.pointer, RuleAttribute.family, UInt32(family.rawValue))
        try dump(NFTMessageType.getRule, family: family.rawValue, payload: { filter.buildPayload(into: $0) }) {
            (message) throws(NFTablesError) in
            let rule = try LibnftnlRule.parsing(message.header)
            guard rule.table == table else { return }
            try each(rule)
        }
    }

    private func send(_ bytes: UnsafeRawBufferPointer, what: String) throws(NFTablesError) {
        do {
            try socket.send(bytes)
        } catch {
            if error.errno == .messageTooLong { throw .batchTooLarge(bytes: bytes.count) }
            if error.errno == .notPermitted { throw .needsCapNetAdmin(call: what) }
            throw .system(error)
        }
    }

    /// Receives datagrams and walks their messages until `done()`; then takes whatever else
    /// is already queued (such as a batch-end ACK) so the next request starts clean.
    private func receiveReplies(
        until done: () -> Bool,
        _ handle: (NetlinkDatagram.Message) throws(NFTablesError) -> Void,
        onTimeout: () throws(NFTablesError) -> Void
    ) throws(NFTablesError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.receiveBufferSize, alignment: 8)
        defer { buffer.deallocate() }
        do {
            while !done() {
                guard try socket.waitUntilReadable(timeoutMilliseconds: replyTimeoutMilliseconds) else {
                    try onTimeout()
                    return
                }
                let count = try socket.receive(into: buffer)
                for message in NetlinkDatagram(UnsafeRawBufferPointer(rebasing: buffer[..<count])) {
                    try handle(message)
                }
            }
            while try socket.waitUntilReadable(timeoutMilliseconds: 0) {
                _ = try socket.receive(into: buffer)
            }
        } catch let error as SystemCallError {
            throw .system(error)
        } catch let error as NFTablesError {
            throw error
        } catch {
            throw .malformedReply("\(error)")
        }
    }

    /// Large enough for any datagram the kernel builds for a dump (it sizes them by the
    /// largest buffer we ever passed to recvmsg, up to 32 KiB, or one page-sized message).
    static let receiveBufferSize = 64 * 1024
}
