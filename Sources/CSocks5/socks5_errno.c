#include "socks5.h"

/* Defined in C because Swift cannot define a C-visible thread-local variable. */
__thread int socks5_errno = 0;
