#include <sys/prctl.h>
#include "shim_thread.h"

int tcplab_name_this_thread(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
