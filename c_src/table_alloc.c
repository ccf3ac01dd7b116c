#include <sys/mman.h>

#include "table_alloc.h"

#define HUGE_PAGE (2u << 20)

static size_t
rounded(size_t bytes)
{
	return (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}

void *
table_alloc(size_t bytes)
{
	void *p = mmap(NULL, rounded(bytes), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, rounded(bytes), MADV_HUGEPAGE); /* advice: fine if refused */
	/* Touched now, so the hot path never takes a page fault: the kernel
	 * zeroing a new 2 MB page costs it a hundred microseconds or more. */
	for (size_t off = 0; off < rounded(bytes); off += 4096)
		((volatile char *)p)[off] = 0;
	return p;
}

void
table_free(void *p, size_t bytes)
{
	if (p != NULL)
		munmap(p, rounded(bytes));
}
