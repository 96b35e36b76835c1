#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include "shim_splice.h"

ssize_t tcplab_splice(int from, int to, size_t length, int more) {
    unsigned int flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (more ? SPLICE_F_MORE : 0);
    return splice(from, NULL, to, NULL, length, flags);
}

int tcplab_pipe_nonblocking(int ends[2]) { return pipe2(ends, O_NONBLOCK | O_CLOEXEC); }

int tcplab_set_pipe_size(int fd, int bytes) { return fcntl(fd, F_SETPIPE_SZ, bytes); }
