#ifndef C_TCPLAB_SHIM_OBSERVE_H
#define C_TCPLAB_SHIM_OBSERVE_H
// Macros and inline helpers for nfnetlink_log and sock_diag.
#include <stddef.h>
#include <stdint.h>
#endif
