import CNetfilter

/// The netlink messages in one received datagram, in place (libnftnl parses a rule from its
/// `nlmsghdr`), walked by `NetlinkWireMessage.frames` like every other datagram. Not
/// `mnl_cb_run`: it stops at the first ACK, which loses the rest of a batch's answers. A
/// malformed length ends the walk, as `mnl_nlmsg_ok` would.
struct NetlinkDatagram: Sequence {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func makeIterator() -> AnyIterator<Message> {
        guard let base = bytes.baseAddress else { return AnyIterator { nil } }
        var frames = NetlinkWireMessage.frames(bytes).frames.makeIterator()
        return AnyIterator {
            frames.next().map { Message(header: (base + $0.lowerBound).assumingMemoryBound(to: nlmsghdr.self)) }
        }
    }

    /// One message inside the datagram (valid while the datagram's buffer is).
    struct Message {
        let header: UnsafePointer<nlmsghdr>

        var sequence: UInt32 { header.pointee.nlmsg_seq }
        var type: UInt16 { header.pointee.nlmsg_type }
        var flags: UInt16 { header.pointee.nlmsg_flags }
        var payload: UnsafeRawPointer { UnsafeRawPointer(header) + NetlinkWireMessage.headerLength }
        var payloadLength: Int { Int(header.pointee.nlmsg_len) - NetlinkWireMessage.headerLength }

        /// For NLMSG_ERROR: 0 for an ACK, else the positive errno. NLMSG_DONE carries one too
        /// (a dump that failed part-way).
        var errorCode: Int32? {
            guard type == NetlinkWireMessage.typeError || type == NetlinkWireMessage.typeDone,
                  payloadLength >= MemoryLayout<Int32>.size else { return nil }
            return -payload.loadUnaligned(as: Int32.self)
        }

        var isDone: Bool { type == NetlinkWireMessage.typeDone }
        /// The kernel's tables changed during a dump: the dump must be redone.
        var dumpWasInterrupted: Bool { flags & NetlinkFlag.dumpInterrupted != 0 }
    }
}
