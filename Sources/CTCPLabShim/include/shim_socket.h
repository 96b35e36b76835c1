#ifndef C_TCPLAB_SHIM_SOCKET_H
#define C_TCPLAB_SHIM_SOCKET_H
#include <stddef.h>
#include <stdint.h>
// Not part of Swift's Glibc module; re-exported from here.
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>

/// The errno's symbolic name ("ECONNREFUSED"), or NULL. Glibc only declares
/// strerrorname_np under _GNU_SOURCE, which Swift's Glibc module does not set.
const char *tcplab_errno_name(int errnum);

/// Glibc's struct tcp_info as this build knows it; the kernel may send more, read by offset.
size_t tcplab_tcp_info_size(void);

/// Call signalfd-friendly sigprocmask with a set built from the given signals.
int tcplab_block_signals(const int *signals, int count);
/// A signalfd for the given signals (they must be blocked first). Returns fd or -1.
int tcplab_signalfd(const int *signals, int count, int flags);
/// accept4(2): Glibc declares it only under _GNU_SOURCE.
struct sockaddr;
int tcplab_accept4(int fd, struct sockaddr *address, unsigned int *length, int flags);
/// setns(fd, CLONE_NEWNET): both need _GNU_SOURCE, which Swift's Glibc module does not set.
int tcplab_setns_net(int fd);
#endif
