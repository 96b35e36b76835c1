#define _GNU_SOURCE
#include <sched.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/inet_diag.h>
#include "shim_observe.h"

uint16_t tcplab_nfnl_msg_type(uint8_t subsystem, uint8_t message) {
    return (uint16_t)((subsystem << 8) | message);
}

size_t tcplab_nfgenmsg_size(void) { return sizeof(struct nfgenmsg); }
size_t tcplab_nfulnl_msg_packet_hdr_size(void) { return sizeof(struct nfulnl_msg_packet_hdr); }
size_t tcplab_nfulnl_msg_packet_timestamp_size(void) { return sizeof(struct nfulnl_msg_packet_timestamp); }
size_t tcplab_nfulnl_msg_config_mode_size(void) { return sizeof(struct nfulnl_msg_config_mode); }
size_t tcplab_inet_diag_req_v2_size(void) { return sizeof(struct inet_diag_req_v2); }
size_t tcplab_inet_diag_msg_size(void) { return sizeof(struct inet_diag_msg); }

// tcplab_setns_net lives in shim_socket.c (one definition for the whole shim).
