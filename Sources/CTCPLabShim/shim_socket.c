#define _GNU_SOURCE
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "shim_socket.h"

const char *tcplab_errno_name(int errnum) { return strerrorname_np(errnum); }

size_t tcplab_tcp_info_size(void) { return sizeof(struct tcp_info); }

static void fill(sigset_t *set, const int *signals, int count) {
    sigemptyset(set);
    for (int i = 0; i < count; i++) sigaddset(set, signals[i]);
}

int tcplab_block_signals(const int *signals, int count) {
    sigset_t set;
    fill(&set, signals, count);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int tcplab_signalfd(const int *signals, int count, int flags) {
    sigset_t set;
    fill(&set, signals, count);
    return signalfd(-1, &set, flags);
}

int tcplab_accept4(int fd, struct sockaddr *address, unsigned int *length, int flags) {
    return accept4(fd, address, (socklen_t *)length, flags);
}

int tcplab_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }
