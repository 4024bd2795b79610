// Written by hand because the packaged interposer (ordo-one/malloc-interposer) works through
// LD_PRELOAD, which `swift test` cannot set for its own test binary; defining the symbols in the
// executable interposes them just the same. Only the four entry points Swift's runtime and the
// library call are wrapped; memalign-family calls go straight to glibc, whose free() handles them.
#include <stddef.h>
#include "AllocationCounter.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define SANITIZED 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define SANITIZED 1
#endif

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
int active_sanitizer(void) { return 1; }
#  elif __has_feature(thread_sanitizer)
int active_sanitizer(void) { return 2; }
#  else
int active_sanitizer(void) { return 0; }
#  endif
#else
int active_sanitizer(void) { return 0; }
#endif

static __thread int counting;
static __thread long count;

void allocation_counter_start(void) { count = 0; counting = 1; }
long allocation_counter_stop(void) { counting = 0; return count; }

#ifdef SANITIZED
/* The sanitizers own malloc: interposing it as well crashes at start-up, so under them the
 * counter is absent and the allocation tests say so (they run in every plain build). */
int allocation_counter_available(void) { return 0; }
#else
int allocation_counter_available(void) { return 1; }

void *malloc(size_t size) {
    if (counting) count++;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
    if (counting) count++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    if (counting) count++;
    return __libc_realloc(p, size);
}

void free(void *p) { __libc_free(p); }
#endif
