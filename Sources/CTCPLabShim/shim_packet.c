#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "shim_packet.h"

// A jump from instruction `from` to `to`: BPF counts from the next instruction.
#define HOP(from, to) ((to) - (from) - 1)

int tcplab_packet_attach_port_filter(int fd, uint16_t port, uint32_t snaplen) {
    enum { V6 = 13, ACCEPT = 20, REJECT = 21 };
    struct sock_filter code[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, HOP(1, REJECT), 0),
        /* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, HOP(3, V6)),
        // IPv4: TCP, the first fragment, either port.
        /* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, HOP(5, REJECT)),
        /* 6 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, HOP(7, REJECT), 0),
        /* 8 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
        /* 9 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
        /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, HOP(10, ACCEPT), 0),
        /* 11 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
        /* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, HOP(12, ACCEPT), HOP(12, REJECT)),
        // IPv6: TCP right after the fixed header (no extension headers), either port.
        /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, HOP(13, REJECT)),
        /* 14 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
        /* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, HOP(15, REJECT)),
        /* 16 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 40),
        /* 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, HOP(17, ACCEPT), 0),
        /* 18 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 42),
        /* 19 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, HOP(19, ACCEPT), HOP(19, REJECT)),
        /* 20 */ BPF_STMT(BPF_RET | BPF_K, snaplen),
        /* 21 */ BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog program = { .len = sizeof code / sizeof code[0], .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}

int tcplab_packet_bind_all(int fd) {
    struct sockaddr_ll address = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = 0 };
    return bind(fd, (struct sockaddr *)&address, sizeof address);
}

int tcplab_packet_setup_ring(int fd, uint32_t block_bytes, uint32_t blocks, uint32_t retire_ms, const char **failed_call) {
    // Not even offered what this namespace sends (the filter would refuse it, but only after the
    // kernel cloned it): on loopback that halves the tap's work.
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0) {
        *failed_call = "setsockopt(PACKET_IGNORE_OUTGOING)";
        return -1;
    }
    int version = TPACKET_V3;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
        *failed_call = "setsockopt(PACKET_VERSION)";
        return -1;
    }
    // The frame size only bounds a frame in V1/V2; V3 packs frames into blocks.
    struct tpacket_req3 request = {
        .tp_block_size = block_bytes,
        .tp_block_nr = blocks,
        .tp_frame_size = TPACKET_ALIGNMENT << 7,
        .tp_frame_nr = (uint32_t)(((uint64_t)block_bytes * blocks) / (TPACKET_ALIGNMENT << 7)),
        .tp_retire_blk_tov = retire_ms,
    };
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &request, sizeof request) != 0) {
        *failed_call = "setsockopt(PACKET_RX_RING)";
        return -1;
    }
    return 0;
}

int tcplab_packet_block_ready(const void *block) {
    const struct tpacket_block_desc *desc = block;
    uint32_t status = __atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
    return (status & TP_STATUS_USER) != 0;
}

int tcplab_packet_block_timed_out(const void *block) {
    const struct tpacket_block_desc *desc = block;
    return (desc->hdr.bh1.block_status & TP_STATUS_BLK_TMO) != 0;
}

uint32_t tcplab_packet_block_frames(const void *block, uint32_t *first_offset) {
    const struct tpacket_block_desc *desc = block;
    *first_offset = desc->hdr.bh1.offset_to_first_pkt;
    return desc->hdr.bh1.num_pkts;
}

void tcplab_packet_block_release(void *block) {
    struct tpacket_block_desc *desc = block;
    __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

void tcplab_packet_frame_read(const void *frame, struct tcplab_packet_frame *out) {
    const struct tpacket3_hdr *header = frame;
    out->time_ns = (int64_t)header->tp_sec * 1000000000 + header->tp_nsec;
    out->captured = header->tp_snaplen;
    out->length = header->tp_len;
    out->network_offset = header->tp_net;
    out->next_offset = header->tp_next_offset;
}

int tcplab_packet_statistics(int fd, uint32_t *packets, uint32_t *drops) {
    struct tpacket_stats_v3 stats = {0};
    socklen_t length = sizeof stats;
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length) != 0) return -1;
    *packets = stats.tp_packets;
    *drops = stats.tp_drops;
    return 0;
}
