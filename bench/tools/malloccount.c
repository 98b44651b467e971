/* LD_PRELOAD shim that counts allocation calls (malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc) and passes them on to glibc.
 * With MALLOCCOUNT_FILE set, the count lives in that file (8 bytes, native order,
 * mapped shared), so another process can read it at any time without signals.
 * Compiled at run time: cc -O2 -shared -fPIC -o malloccount.so malloccount.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t early;
static uint64_t *counter = &early;

__attribute__((constructor)) static void map_counter(void) {
    const char *path = getenv("MALLOCCOUNT_FILE");
    if (!path) return;
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || ftruncate(fd, sizeof(uint64_t)) < 0) return;
    void *p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return;
    uint64_t *shared = p;
    __atomic_store_n(shared, __atomic_load_n(&early, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    __atomic_store_n(&counter, shared, __ATOMIC_RELEASE);
}

static inline void count(void) {
    __atomic_fetch_add(__atomic_load_n(&counter, __ATOMIC_ACQUIRE), 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
void *valloc(size_t n) { count(); return __libc_memalign(sysconf(_SC_PAGESIZE), n); }
void *pvalloc(size_t n) {
    count();
    size_t page = sysconf(_SC_PAGESIZE);
    return __libc_memalign(page, (n + page - 1) & ~(page - 1));
}
int posix_memalign(void **out, size_t al, size_t n) {
    count();
    if (al < sizeof(void *) || (al & (al - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(al, n);
    if (!p && n) return ENOMEM;
    *out = p;
    return 0;
}
