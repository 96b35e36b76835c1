#ifndef C_TCPLAB_SHIM_QUEUE_H
#define C_TCPLAB_SHIM_QUEUE_H
// nfnetlink_queue and the timer the delay queue waits on.
#include <stddef.h>
#include <stdint.h>
// Not part of Swift's Glibc module; re-exported from here.
#include <sys/timerfd.h>

/// The kernel headers' struct sizes, so the Swift wire code can check its layouts against them.
size_t tcplab_nfqnl_msg_packet_hdr_size(void);
size_t tcplab_nfqnl_msg_verdict_hdr_size(void);
size_t tcplab_nfqnl_msg_config_cmd_size(void);
size_t tcplab_nfqnl_msg_config_params_size(void);

/// Arms `fd` (a CLOCK_MONOTONIC timerfd) to fire once at the absolute time `deadline_ns`;
/// 0 disarms it. Returns 0 or -1 with errno. (struct itimerspec built here: one place.)
int tcplab_timerfd_arm_absolute(int fd, uint64_t deadline_ns);
#endif
