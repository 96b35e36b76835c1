#ifndef TCPLAB_SHIM_PACKET_H
#define TCPLAB_SHIM_PACKET_H

#include <stddef.h>
#include <stdint.h>

// AF_PACKET's TPACKET_V3 receive ring: its setup, its classic-BPF filter and reading its blocks.
// In C because the filter is written with BPF_STMT/BPF_JUMP and the block status needs
// acquire/release ordering on memory the kernel shares (neither imports into Swift), and the
// kernel's tpacket structs are read here so Swift never includes <linux/if_packet.h>.

/// One captured frame of a block, as the ring's tpacket3_hdr describes it.
struct tcplab_packet_frame {
    /// CLOCK_REALTIME, nanoseconds: the skb's timestamp (or the tap's time if it had none).
    int64_t time_ns;
    /// Bytes kept (the filter's snapshot length) and the packet's whole length.
    uint32_t captured;
    uint32_t length;
    /// From the frame's start to its network header, and to the next frame (0: the last).
    uint32_t network_offset;
    uint32_t next_offset;
};

/// Keeps, of what the socket sees, only TCP over IPv4 (first fragments) or IPv6 to or from
/// `port`, and not a copy of a packet this namespace sends (PACKET_OUTGOING), cut to
/// `snaplen` bytes from the network header (a SOCK_DGRAM socket). 0 or -1 with errno.
int tcplab_packet_attach_port_filter(int fd, uint16_t port, uint32_t snaplen);

/// Binds to every protocol on every interface of the namespace (ETH_P_ALL, ifindex 0): the
/// socket receives nothing before, so bind after the filter and the ring are set. 0 or -1 with errno.
int tcplab_packet_bind_all(int fd);

/// TPACKET_V3 with `blocks` blocks of `block_bytes`, retired to the reader at least every
/// `retire_ms`. 0 or -1 with errno (the call's name in *failed_call).
int tcplab_packet_setup_ring(int fd, uint32_t block_bytes, uint32_t blocks, uint32_t retire_ms, const char **failed_call);

/// 1 when the block is the reader's (TP_STATUS_USER), read with acquire ordering.
int tcplab_packet_block_ready(const void *block);
/// 1 when the kernel retired the block because its timer ran out (TP_STATUS_BLK_TMO), not
/// because it was full: traffic was light.
int tcplab_packet_block_timed_out(const void *block);
/// Frames in a ready block and the offset of the first.
uint32_t tcplab_packet_block_frames(const void *block, uint32_t *first_offset);
/// Hands the block back to the kernel (release ordering: every read of it happens before).
void tcplab_packet_block_release(void *block);
void tcplab_packet_frame_read(const void *frame, struct tcplab_packet_frame *out);

/// PACKET_STATISTICS (v3): frames passed to the ring and frames dropped because it was full,
/// since the last call (the kernel resets them on read). 0 or -1 with errno.
int tcplab_packet_statistics(int fd, uint32_t *packets, uint32_t *drops);

#endif
