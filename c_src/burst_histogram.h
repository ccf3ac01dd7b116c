/* Log-linear histogram of TSC cycles: 8 buckets per power of two, so any
 * percentile read from it is within 12.5%. Layout in colo.h. */
#ifndef BURST_HISTOGRAM_H
#define BURST_HISTOGRAM_H

#include <stdint.h>

#include "colo.h"

static inline void
burst_histogram_add(uint64_t *buckets, uint64_t cycles)
{
	unsigned idx;

	if (cycles < 8) {
		idx = (unsigned)cycles;
	} else {
		unsigned msb = 63u - (unsigned)__builtin_clzll(cycles);
		idx = (msb - 2) * 8 + (unsigned)((cycles >> (msb - 3)) & 7);
	}
	buckets[idx]++;
}

#endif
