#ifndef C_TCPLAB_SHIM_NETLINK_H
#define C_TCPLAB_SHIM_NETLINK_H
#include <stddef.h>
#include <stdint.h>

/// MNL_SOCKET_BUFFER_SIZE: a macro over sysconf, so Swift cannot see it.
size_t tcplab_mnl_socket_buffer_size(void);
/// NLMSG_ALIGN / NLA_ALIGN.
size_t tcplab_nlmsg_align(size_t len);

/// Clears the calling thread's effective capabilities (capset(2) acts per thread), keeping
/// the permitted set. Netlink checks CAP_NET_ADMIN against the credentials a socket was
/// opened with, so a socket opened afterwards on this thread shows what an unprivileged
/// user gets. Returns 0 or -1 with errno.
int tcplab_drop_effective_capabilities_of_thread(void);
#endif
