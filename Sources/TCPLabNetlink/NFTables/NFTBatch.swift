import CNetfilter

/// One nftables transaction laid out in a buffer for a single sendto: batch begin, the
/// messages, batch end. The kernel applies all of it or nothing. Every message asks for an
/// ACK (NLM_F_ACK) and gets its own sequence number, kept with the object it carries so that a kernel
/// error can be blamed on that object.
struct NFTBatch: ~Copyable {
    /// The most one batch may hold; the kernel takes one datagram of at most SO_SNDBUF bytes
    /// (wmem_default, 208 KiB here), so stay under that.
    static let limit = 128 * 1024

    private let buffer: UnsafeMutableRawPointer
    private let batch: OpaquePointer
    private var nextSequence: UInt32
    /// The sequence number of the batch-begin message: an error on it refuses the whole batch.
    let beginSequence: UInt32
    private(set) var messages: [(sequence: UInt32, object: NFTObject)] = []
    private var ended = false

    /// Starts the batch; `firstSequence` and the numbers after it must be reserved on the socket
    /// (one for begin, one per message, one for end).
    init(firstSequence: UInt32) {
        // Twice the limit: libmnl lets the last message run past the limit before it reports
        // that it did not fit, and libnftnl writes without bounds checks.
        buffer = UnsafeMutableRawPointer.allocate(byteCount: 2 * Self.limit, alignment: 8)
        batch = mnl_nlmsg_batch_start(buffer, Self.limit)
        beginSequence = firstSequence
        nextSequence = firstSequence &+ 1
        nftnl_batch_begin(current, firstSequence)!.pointee.nlmsg_flags |= NetlinkFlag.ack
        _ = mnl_nlmsg_batch_next(batch)
    }

    deinit {
        mnl_nlmsg_batch_stop(batch)
        buffer.deallocate()
    }

    private var current: UnsafeMutablePointer<CChar> {
        mnl_nlmsg_batch_current(batch).assumingMemoryBound(to: CChar.self)
    }

    /// Appends one nf_tables message: header for `type` and `family`, then `payload` writes the
    /// attributes. NLM_F_REQUEST and NLM_F_ACK are always set.
    mutating func add(
        _ type: UInt16, family: UInt8, flags: UInt16, object: NFTObject,
        payload: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) throws(NFTablesError) {
        precondition(!ended, "message added after batch end")
        let sequence = nextSequence
        nextSequence &+= 1
        let header = nftnl_nlmsg_build_hdr(current, type, UInt16(family), flags | NetlinkFlag.ack, sequence)!
        payload(header)
        guard mnl_nlmsg_batch_next(batch) else {
            throw .batchTooLarge(bytes: mnl_nlmsg_batch_size(batch) + Int(header.pointee.nlmsg_len))
        }
        messages.append((sequence, object))
    }

    /// Closes the batch. Begin and end ask for an ACK too, but nobody waits for theirs:
    /// kernel 6.18 sends them, older kernels do not (the reader drains what is queued).
    mutating func end() throws(NFTablesError) {
        nftnl_batch_end(current, nextSequence)!.pointee.nlmsg_flags |= NetlinkFlag.ack
        guard mnl_nlmsg_batch_next(batch) else {
            throw .batchTooLarge(bytes: mnl_nlmsg_batch_size(batch) + 20)
        }
        ended = true
    }

    /// Begin, one per message, end.
    static func sequenceCount(messages: Int) -> UInt32 { UInt32(messages + 2) }

    /// The finished batch, ready for one sendto.
    var bytes: UnsafeRawBufferPointer {
        precondition(ended, "batch read before end()")
        return UnsafeRawBufferPointer(start: mnl_nlmsg_batch_head(batch), count: mnl_nlmsg_batch_size(batch))
    }

    /// The object a sequence number was given to.
    func object(for sequence: UInt32) -> NFTObject? {
        if sequence == beginSequence { return .batch }
        return messages.first { $0.sequence == sequence }?.object
    }
}
