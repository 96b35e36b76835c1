#ifndef C_TCPLAB_SHIM_OBSERVE_H
#define C_TCPLAB_SHIM_OBSERVE_H
// Macros and inline helpers for nfnetlink_log and sock_diag.
#include <stddef.h>
#include <stdint.h>

/// NFNL_MSG_TYPE(subsys, msg): the nlmsg_type of an nfnetlink message.
uint16_t tcplab_nfnl_msg_type(uint8_t subsystem, uint8_t message);

/// The kernel headers' struct sizes, so the Swift parsers can check their offsets against them.
size_t tcplab_nfgenmsg_size(void);
size_t tcplab_nfulnl_msg_packet_hdr_size(void);
size_t tcplab_nfulnl_msg_packet_timestamp_size(void);
size_t tcplab_nfulnl_msg_config_mode_size(void);
size_t tcplab_inet_diag_req_v2_size(void);
size_t tcplab_inet_diag_msg_size(void);

#endif
