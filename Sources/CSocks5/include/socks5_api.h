/* socks5_api.h - the AIX 5.1 name of socks5.h. */
#include "socks5.h"
