#include <malloc.h>
#include "CBenchSupport.h"

size_t bench_heap_in_use(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}
