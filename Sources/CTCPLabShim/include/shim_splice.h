#ifndef C_TCPLAB_SHIM_SPLICE_H
#define C_TCPLAB_SHIM_SPLICE_H
#include <stddef.h>
#include <sys/types.h>

/// splice(2) between a socket and a pipe, non-blocking and moving pages where it can
/// (SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE when `more`). Glibc declares splice
/// only under _GNU_SOURCE, which Swift's Glibc module does not set.
ssize_t tcplab_splice(int from, int to, size_t length, int more);
/// pipe2(O_NONBLOCK | O_CLOEXEC) (also _GNU_SOURCE only). Returns 0 or -1.
int tcplab_pipe_nonblocking(int ends[2]);
/// fcntl(F_SETPIPE_SZ): the capacity the kernel granted, or -1.
int tcplab_set_pipe_size(int fd, int bytes);
#endif
