#include <time.h>
#include <sys/timerfd.h>
#include <netinet/in.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include "shim_queue.h"

size_t tcplab_nfqnl_msg_packet_hdr_size(void) { return sizeof(struct nfqnl_msg_packet_hdr); }
size_t tcplab_nfqnl_msg_verdict_hdr_size(void) { return sizeof(struct nfqnl_msg_verdict_hdr); }
size_t tcplab_nfqnl_msg_config_cmd_size(void) { return sizeof(struct nfqnl_msg_config_cmd); }
size_t tcplab_nfqnl_msg_config_params_size(void) { return sizeof(struct nfqnl_msg_config_params); }

int tcplab_timerfd_arm_absolute(int fd, uint64_t deadline_ns) {
    struct itimerspec spec = {0};
    spec.it_value.tv_sec = (time_t)(deadline_ns / 1000000000u);
    spec.it_value.tv_nsec = (long)(deadline_ns % 1000000000u);
    // An absolute deadline already past fires at once; an all-zero it_value disarms.
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL);
}
