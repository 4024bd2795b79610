#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

/* Counts heap allocations (malloc, calloc, realloc) made by the calling thread between
 * allocation_counter_start() and allocation_counter_stop(), which returns the count.
 * Linked into the test binary only: it defines malloc and friends, forwarding to glibc's
 * __libc_* entry points, so every allocation in the process passes through it. */
void allocation_counter_start(void);
long allocation_counter_stop(void);
/* 0 under AddressSanitizer/ThreadSanitizer, which own malloc themselves. */
int allocation_counter_available(void);
/* The sanitizer this build runs under (swift build --sanitize, which instruments this C target
 * too): 0 none, 1 AddressSanitizer, 2 ThreadSanitizer. */
int active_sanitizer(void);

#endif
