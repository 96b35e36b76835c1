/// A rule's counter as read back from the kernel.
public struct NFTRuleCounter: Hashable, Sendable {
    public var chain: String
    public var comment: String?
    public var handle: UInt64
    public var packets: UInt64
    public var bytes: UInt64

    public init(chain: String, comment: String?, handle: UInt64, packets: UInt64, bytes: UInt64) {
        self.chain = chain
        self.comment = comment
        self.handle = handle
        self.packets = packets
        self.bytes = bytes
    }
}
