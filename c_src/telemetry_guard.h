/* What a telemetry command reads, handed over safely: DPDK's telemetry
 * threads run commands while the main thread may destroy what they read.
 * A command holds the object for its whole run; taking the object away
 * waits until no command holds it. */
#ifndef TELEMETRY_GUARD_H
#define TELEMETRY_GUARD_H

#include <stdint.h>

#include <rte_pause.h>

struct telemetry_guard {
	void *obj;
	uint32_t holders;
};

/* The object (NULL: none now); telemetry_release after, either way. */
static inline void *
telemetry_hold(struct telemetry_guard *g)
{
	/* Counted before the load: telemetry_serve's store then its wait see one or the other. */
	__atomic_add_fetch(&g->holders, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&g->obj, __ATOMIC_SEQ_CST);
}

static inline void
telemetry_release(struct telemetry_guard *g)
{
	__atomic_sub_fetch(&g->holders, 1, __ATOMIC_RELEASE);
}

/* Serves obj from now on; returns once no command still reads the old one. */
static inline void
telemetry_serve(struct telemetry_guard *g, void *obj)
{
	__atomic_store_n(&g->obj, obj, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&g->holders, __ATOMIC_ACQUIRE) != 0)
		rte_pause();
}

#endif
