import CNetfilter

/// The netlink messages in one received datagram, walked with libmnl's `mnl_nlmsg_ok/next`.
/// (`mnl_cb_run` stops at the first ACK, which loses the rest of a batch's answers.)
struct NetlinkDatagram: Sequence {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    struct Iterator: IteratorProtocol {
        var upcoming: UnsafePointer<nlmsghdr>?
        var remaining: Int32

        mutating func next() -> Message? {
            guard let message = upcoming, mnl_nlmsg_ok(message, remaining) else { return nil }
            upcoming = UnsafePointer(mnl_nlmsg_next(message, &remaining))
            return Message(header: message)
        }
    }

    func makeIterator() -> Iterator {
        Iterator(upcoming: bytes.baseAddress?.assumingMemoryBound(to: nlmsghdr.self), remaining: Int32(bytes.count))
    }

    /// One message inside the datagram (valid while the datagram's buffer is).
    struct Message {
        let header: UnsafePointer<nlmsghdr>

        var sequence: UInt32 { header.pointee.nlmsg_seq }
        var type: UInt16 { header.pointee.nlmsg_type }
        var flags: UInt16 { header.pointee.nlmsg_flags }
        var payload: UnsafeRawPointer { UnsafeRawPointer(mnl_nlmsg_get_payload(header)) }
        var payloadLength: Int { Int(header.pointee.nlmsg_len) - MemoryLayout<nlmsghdr>.size }

        /// For NLMSG_ERROR: 0 for an ACK, else the positive errno. NLMSG_DONE carries one too
        /// (a dump that failed part-way).
        var errorCode: Int32? {
            guard type == NetlinkFlag.messageError || type == NetlinkFlag.messageDone,
                  payloadLength >= MemoryLayout<Int32>.size else { return nil }
            return -payload.loadUnaligned(as: Int32.self)
        }

        var isDone: Bool { type == NetlinkFlag.messageDone }
        /// The kernel's tables changed during a dump: the dump must be redone.
        var dumpWasInterrupted: Bool { flags & NetlinkFlag.dumpInterrupted != 0 }
    }
}
