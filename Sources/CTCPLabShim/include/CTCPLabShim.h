#ifndef C_TCPLAB_SHIM_H
#define C_TCPLAB_SHIM_H
// Only what Swift cannot import: function-like macros, static inline functions, constants
// hidden behind feature macros. Each family has its own header.
#include "shim_socket.h"
#include "shim_netlink.h"
#include "shim_observe.h"
#include "shim_queue.h"
#include "shim_splice.h"
#include "shim_thread.h"
#include "shim_wake.h"
#include "shim_packet.h"
#endif
