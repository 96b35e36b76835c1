#include <netinet/in.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include "shim_netlink.h"

size_t tcplab_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
size_t tcplab_nlmsg_align(size_t len) { return NLMSG_ALIGN(len); }
