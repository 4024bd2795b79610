#ifndef CBENCH_SUPPORT_H
#define CBENCH_SUPPORT_H
#include <stddef.h>

/* Heap bytes in use (glibc's mallinfo2: small blocks plus mmapped ones). Swift's Glibc module
 * does not export malloc.h. */
size_t bench_heap_in_use(void);

#endif
