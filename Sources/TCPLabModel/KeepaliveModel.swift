/// Keepalive (net/ipv4/tcp_timer.c: tcp_keepalive_timer): after `idle` seconds of silence the
/// first probe goes out, then one every `interval`; when `count` probes are unanswered and the
/// next interval passes, the connection is reset with ETIMEDOUT. Per-socket TCP_KEEPIDLE,
/// TCP_KEEPINTVL and TCP_KEEPCNT override the tcp_keepalive_* sysctls
/// (Documentation/networking/ip-sysctl.rst). The rule has held since Linux 2.2; TCP_USER_TIMEOUT
/// (2.6.37+), when set, ends the probing earlier instead (not modelled: the labs leave it unset).
public enum KeepaliveModel {
    public static func probes(idle: Double, interval: Double, count: Int) -> [Double] {
        (0..<count).map { idle + Double($0) * interval }
    }

    public static func death(idle: Double, interval: Double, count: Int) -> Double {
        idle + Double(count) * interval
    }
}
