#if canImport(Glibc)
import Glibc
#endif

/// `struct xt_NFQ_info_v3` for the x_tables NFQUEUE target (revision 3), which nft_compat
/// runs on kernels without the native `queue` expression: three host-order u16 fields.
struct XTQueueInfo: Equatable {
    static let targetName = "NFQUEUE"
    static let revision: UInt32 = 3
    /// sizeof(struct xt_NFQ_info_v3); the kernel accepts it padded to XT_ALIGN (8) too.
    static let size = 6
    static let bypassFlag: UInt16 = 0x01  // NFQ_FLAG_BYPASS

    var queueNumber: UInt16
    var queuesTotal: UInt16
    var bypass: Bool

    init(queueNumber: UInt16, queuesTotal: UInt16, bypass: Bool) {
        self.queueNumber = queueNumber
        self.queuesTotal = queuesTotal
        self.bypass = bypass
    }

    /// Reads the fields back from a target's info buffer; nil when it is too short.
    init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size else { return nil }
        queueNumber = bytes.loadUnaligned(fromByteOffset: 0, as: UInt16.self)
        queuesTotal = bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
        bypass = bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self) & Self.bypassFlag != 0
    }

    /// A malloc'd copy for libnftnl, which takes ownership of the buffer and free()s it.
    func mallocCopy() -> UnsafeMutableRawPointer {
        let buffer = malloc(Self.size)!
        buffer.storeBytes(of: queueNumber, toByteOffset: 0, as: UInt16.self)
        buffer.storeBytes(of: queuesTotal, toByteOffset: 2, as: UInt16.self)
        buffer.storeBytes(of: bypass ? Self.bypassFlag : 0, toByteOffset: 4, as: UInt16.self)
        return buffer
    }
}
