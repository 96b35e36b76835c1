#ifndef TCPLAB_SHIM_THREAD_H
#define TCPLAB_SHIM_THREAD_H

/// prctl(PR_SET_NAME, name) for the calling thread: prctl is variadic (Swift cannot call it)
/// and pthread_setname_np needs _GNU_SOURCE. The kernel keeps the first 15 bytes.
int tcplab_name_this_thread(const char *name);

#endif
