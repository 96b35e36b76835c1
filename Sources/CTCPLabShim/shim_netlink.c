#include <netinet/in.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include "shim_netlink.h"

size_t tcplab_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
size_t tcplab_nlmsg_align(size_t len) { return NLMSG_ALIGN(len); }

int tcplab_drop_effective_capabilities_of_thread(void) {
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].effective = 0;
    return (int)syscall(SYS_capset, &header, data);
}
