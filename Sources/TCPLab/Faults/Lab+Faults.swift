import Foundation
import Synchronization
import TCPLabFault
import TCPLabObserve
import TCPLabProxy
import TCPLabSystem

/// Faults in a lab: faultproxy's session in-process, on the lab's port.
extension Lab {
    /// Installs faults in transparent mode on `port` (every connection to or from it), with the
    /// timeline and both ends' socket states on, and returns once the rules are in. `drop` are
    /// faultproxy's `--drop` specs ("synack:2"); none only watches.
    public func faultproxy(drop: String..., from: Endpoint? = nil, port: UInt16? = nil, pcap: String? = nil) throws -> FaultProxyRun {
        try faultproxy(drops: drop, from: from, port: port ?? self.port, pcap: pcap)
    }

    public func faultproxy(drops: [String], from: Endpoint? = nil, port: UInt16? = nil, pcap: String? = nil) throws -> FaultProxyRun {
        let port = port ?? self.port
        let faults = try drops.map { (text) throws(FaultSpecError) in try Fault(drop: text, from: from) }
        return try fault(faults, port: port, pcap: pcap)
    }

    /// The same with typed faults: `lab.fault(.drop(.synack, count: 2))`,
    /// `lab.fault(.delay(.data, .milliseconds(300), from: .server))`. No fault only watches.
    public func fault(_ faults: Fault..., port: UInt16? = nil, pcap: String? = nil) throws -> FaultProxyRun {
        try fault(faults, port: port ?? self.port, pcap: pcap)
    }

    public func fault(_ faults: [Fault], port: UInt16? = nil, pcap: String? = nil) throws -> FaultProxyRun {
        let port = port ?? self.port
        let plan: FaultPlan
        do {
            plan = try FaultPlan(port: port, faults: faults, logGroup: port,
                                 tableName: FaultPlan.defaultTableName() + "_\(Self.nextFaultSerial())")
        } catch {
            throw LabError.unexpected("\(error)")
        }
        // The session sits with the server; the client's sockets are in a namespace of their own.
        let others = client.namespace !== server.namespace ? [NamespaceReference.named(client.namespace.name)] : []
        let serial = lock.withLock { faultRuns.count + 1 }
        // Evidence for a failing test: the headers are enough to read the exchange in Wireshark.
        let evidence = pcap == nil ? evidenceDirectory.map { "\($0)/\(LabEvidence.stem(serial: serial, port: port)).pcap" } : nil
        let session = FaultSession(plan: plan, scope: .transparent(port: port), netns: .named(server.namespace.name),
                                   watch: .init(group: port, states: true, pcap: (pcap ?? evidence) != nil,
                                                snaplen: evidence != nil ? ObservationSession.headerBytes : nil, stateNamespaces: others))
        let run = try FaultProxyRun(session: session, faults: faults, tolerance: tolerance, pcap: pcap ?? evidence)
        lock.withLock { faultRuns.append(run) }
        return run
    }

    private static func nextFaultSerial() -> Int { labFaultSerial.withLock { $0 += 1; return $0 } }
}

/// Numbers each fault table of this process (faultproxy_<pid>_<n>): two faults never share a table.
private let labFaultSerial = Mutex(0)
