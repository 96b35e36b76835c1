import Foundation

/// A listener's accept queue as `ss -lt` shows it: Recv-Q is the connections waiting for
/// accept() (sk_ack_backlog), Send-Q the backlog listen() kept (sk_max_ack_backlog).
struct ListenerQueue: Equatable, CustomStringConvertible {
    var waiting: Int
    var backlog: Int
    var description: String { "Recv-Q \(waiting) / Send-Q \(backlog)" }
}

/// The listen-queue counters of /proc/net/netstat (TcpExt): what the queue labs show before and after.
struct ListenCounters: CustomStringConvertible {
    /// LINUX_MIB_LISTENOVERFLOWS: a SYN or completing ACK met a full accept queue.
    var overflows: Int
    /// LINUX_MIB_LISTENDROPS: every drop at a listener (overflows included).
    var drops: Int
    /// LINUX_MIB_EMBRYONICRSTS: requests reset (tcp_abort_on_overflow=1 among others).
    var embryonicResets: Int

    static func read(_ lab: Lab) throws -> ListenCounters {
        ListenCounters(overflows: try lab.counter("TcpExt", "ListenOverflows"), drops: try lab.counter("TcpExt", "ListenDrops"),
                       embryonicResets: try lab.counter("TcpExt", "EmbryonicRsts"))
    }

    static func - (after: ListenCounters, before: ListenCounters) -> ListenCounters {
        ListenCounters(overflows: after.overflows - before.overflows, drops: after.drops - before.drops,
                       embryonicResets: after.embryonicResets - before.embryonicResets)
    }

    var description: String { "ListenOverflows \(overflows), ListenDrops \(drops), EmbryonicRsts \(embryonicResets)" }
}

extension Lab {
    /// The listener on `port` (nil when nothing listens there).
    func listenerQueue(port: UInt16) throws -> ListenerQueue? {
        let line = try namespace.run(["ss", "-Hltn", "sport", "= :\(port)"]).standardOutput
        let columns = line.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard columns.count >= 3, columns[0] == "LISTEN", let waiting = Int(columns[1]), let backlog = Int(columns[2]) else { return nil }
        return ListenerQueue(waiting: waiting, backlog: backlog)
    }

    /// Sockets in SYN_RECV on `port` (request sockets, as sock_diag lists them).
    func requests(port: UInt16) throws -> Int {
        try sockets(["state", "syn-recv", "sport", "= :\(port)"]).count
    }
}

extension Observation {
    /// The timeline's index of the connection from client port `port` (clients bind fixed ports).
    func connection(clientPort port: UInt16) -> Int? {
        events.first { $0.source.hasSuffix(":\(port)") || $0.destination.hasSuffix(":\(port)") }?.connection
    }

    /// When the server's socket for client port `port` went away (a request dropped), µs since the epoch.
    func serverClosed(clientPort port: UInt16, after origin: Int64) -> Int64? {
        states(.server, remotePort: port).first { $0.state == nil && $0.timeUnixMicroseconds >= origin }?.timeUnixMicroseconds
    }
}
