#ifndef TCPLAB_SHIM_WAKE_H
#define TCPLAB_SHIM_WAKE_H

#include <poll.h>
#include <stdint.h>

/// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC): Glibc's Swift module leaves <sys/eventfd.h> out.
int tcplab_eventfd(void);

/// ppoll with a nanosecond timeout; timeout_ns < 0 waits for an event. ppoll needs _GNU_SOURCE,
/// which Swift's Glibc module does not define.
int tcplab_ppoll(struct pollfd *fds, unsigned long count, int64_t timeout_ns);

#endif
