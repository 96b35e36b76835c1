#define _GNU_SOURCE
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include "shim_wake.h"

int tcplab_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int tcplab_ppoll(struct pollfd *fds, unsigned long count, int64_t timeout_ns) {
    if (timeout_ns < 0) return ppoll(fds, count, NULL, NULL);
    struct timespec spec = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
    return ppoll(fds, count, &spec, NULL);
}
