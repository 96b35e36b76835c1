import CTCPLabShim
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The TCP segments to or from one port that arrive at any interface of the calling thread's
/// network namespace (loopback included), copied by AF_PACKET into a TPACKET_V3 ring shared with
/// the kernel: what tcpdump uses. A classic-BPF filter keeps only the port's segments, cut to
/// `snapshotLength` bytes from the IP header, and drops the copies of what this namespace sends
/// (on loopback each segment is seen sent and received: it is kept once, received).
///
/// The kernel fills blocks and hands each to the reader when it is full or `retireMilliseconds`
/// after it was opened; the reader walks a block's frames in place and gives it back. Cheaper per
/// segment than NFLOG (no netlink message, no datagram), and a full ring is counted exactly:
/// `kernelCounts()` gives the frames the kernel offered and those it dropped.
///
/// Needs CAP_NET_RAW. Not thread-safe: use it from one thread at a time.
public final class PacketRing {
    public let fileDescriptor: FileDescriptor
    public let snapshotLength: UInt32
    private let map: UnsafeMutableRawPointer
    public let blockBytes: Int
    private let blockCount: Int
    private var nextBlock = 0
    /// Frames handed to `drain`'s body so far.
    public private(set) var framesRead: UInt64 = 0
    private var offered: UInt64 = 0
    private var dropped: UInt64 = 0

    /// - Parameters:
    ///   - blockBytes: a multiple of the page size, larger than one frame (the snapshot and ~100 bytes).
    ///   - blocks: the ring holds `blocks × blockBytes`; the kernel allocates it at once.
    ///   - retireMilliseconds: a partly filled block goes to the reader after this long.
    public init(port: UInt16, snapshotLength: UInt32, blockBytes: Int = 1 << 20, blocks: Int = 32,
                retireMilliseconds: UInt32 = 8) throws(SystemCallError) {
        let fd = try retryingEINTR("socket(AF_PACKET)") {
            Glibc.socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        let descriptor = FileDescriptor(rawValue: fd)
        // Protocol 0 until bind: nothing is delivered while the filter and the ring are set up.
        var mapped: UnsafeMutableRawPointer?
        do throws(SystemCallError) {
            _ = try retryingEINTR("setsockopt(SO_ATTACH_FILTER)", subject: "tcp port \(port)") {
                tcplab_packet_attach_port_filter(fd, port, snapshotLength)
            }
            var failedCall: UnsafePointer<CChar>?
            if tcplab_packet_setup_ring(fd, UInt32(blockBytes), UInt32(blocks), retireMilliseconds, &failedCall) != 0 {
                throw SystemCallError(Errno(rawValue: errno), call: failedCall.map { String(cString: $0) } ?? "setsockopt(PACKET_RX_RING)",
                                      subject: "\(blocks) blocks of \(blockBytes) bytes")
            }
            let address = mmap(nil, blockBytes * blocks, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0)
            guard let address, address != MAP_FAILED else { throw SystemCallError(Errno(rawValue: errno), call: "mmap", subject: "packet ring") }
            mapped = address
            _ = try retryingEINTR("bind(AF_PACKET)") { tcplab_packet_bind_all(fd) }
        } catch {
            if let mapped { munmap(mapped, blockBytes * blocks) }
            try? descriptor.close()
            throw error
        }
        fileDescriptor = descriptor
        self.snapshotLength = snapshotLength
        map = mapped!
        self.blockBytes = blockBytes
        blockCount = blocks
    }

    deinit {
        munmap(map, blockBytes * blockCount)
        try? fileDescriptor.close()
    }

    private func block(_ index: Int) -> UnsafeMutableRawPointer { map + (index % blockCount) * blockBytes }
    private var currentBlock: UnsafeMutableRawPointer { block(nextBlock) }

    /// The ring's size in blocks.
    public var blocks: Int { blockCount }

    /// A retired block waits to be read.
    public var hasReadyBlock: Bool { tcplab_packet_block_ready(currentBlock) != 0 }

    /// What one `drain` read.
    public struct Drained: Sendable, Equatable {
        public var blocks = 0
        public var frames = 0
        /// Blocks the kernel handed over because their timer ran out, not because they were full.
        public var timedOut = 0
    }

    /// The retired blocks after the first `known` (which the caller has seen), counted where they
    /// lie, neither read nor given back: a reader that leaves a burst's blocks in the ring costs
    /// the transfer no copy and no wakeup per block.
    public func peek(after known: Int) -> Drained {
        var seen = Drained()
        for index in (nextBlock + known)..<(nextBlock + blockCount) {
            let block = block(index)
            guard tcplab_packet_block_ready(block) != 0 else { break }
            var offset: UInt32 = 0
            seen.frames += Int(tcplab_packet_block_frames(block, &offset))
            if tcplab_packet_block_timed_out(block) != 0 { seen.timedOut += 1 }
            seen.blocks += 1
        }
        return seen
    }

    /// Walks up to `maxBlocks` retired blocks, oldest first, and gives each frame to `body`: its
    /// kernel timestamp (ns since the epoch), its bytes from the IP header (the snapshot; valid
    /// only during the call) and the packet's whole length.
    @discardableResult
    public func drain(maxBlocks: Int = .max, _ body: (Int64, UnsafeRawBufferPointer, Int) -> Void) -> Drained {
        var drained = Drained()
        while drained.blocks < maxBlocks, hasReadyBlock {
            let block = currentBlock
            var offset: UInt32 = 0
            let count = tcplab_packet_block_frames(block, &offset)
            var frameStart = block + Int(offset)
            var frame = tcplab_packet_frame()
            for _ in 0..<count {
                tcplab_packet_frame_read(frameStart, &frame)
                body(frame.time_ns, UnsafeRawBufferPointer(start: frameStart + Int(frame.network_offset), count: Int(frame.captured)), Int(frame.length))
                frameStart += Int(frame.next_offset)
            }
            framesRead += UInt64(count)
            drained.frames += Int(count)
            if tcplab_packet_block_timed_out(block) != 0 { drained.timedOut += 1 }
            tcplab_packet_block_release(block)
            nextBlock = (nextBlock + 1) % blockCount
            drained.blocks += 1
        }
        return drained
    }

    /// Since the ring was made: the frames the filter passed to it and, of those, the ones lost
    /// because it was full (PACKET_STATISTICS, which the kernel resets on each read).
    public func kernelCounts() throws(SystemCallError) -> (offered: UInt64, dropped: UInt64) {
        var packets: UInt32 = 0
        var drops: UInt32 = 0
        _ = try retryingEINTR("getsockopt(PACKET_STATISTICS)") { tcplab_packet_statistics(fileDescriptor.rawValue, &packets, &drops) }
        offered += UInt64(packets)
        dropped += UInt64(drops)
        return (offered, dropped)
    }
}
