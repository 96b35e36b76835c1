#ifndef C_TCPLAB_SHIM_NETLINK_H
#define C_TCPLAB_SHIM_NETLINK_H
#include <stddef.h>
#include <stdint.h>

/// MNL_SOCKET_BUFFER_SIZE: a macro over sysconf, so Swift cannot see it.
size_t tcplab_mnl_socket_buffer_size(void);
/// NLMSG_ALIGN / NLA_ALIGN.
size_t tcplab_nlmsg_align(size_t len);
#endif
