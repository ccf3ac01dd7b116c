/* Memory for the big lookup tables (order and level indexes, pools): mapped
 * and faulted in once at start, with transparent huge pages asked for,
 * because their accesses are random and a TLB miss per lookup would double
 * its cost. */
#ifndef TABLE_ALLOC_H
#define TABLE_ALLOC_H

#include <stddef.h>

void *table_alloc(size_t bytes);
void table_free(void *p, size_t bytes);

#endif
