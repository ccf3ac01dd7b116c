/* The order path as one object: its rings, clock and three stages, made,
 * placed and torn down together; control requests for its stages. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "order_path.h"

const char *const order_drop_reason_names[] = {
	[ORDER_DROP_NOT_GATEWAY] = "not_gateway",
	[ORDER_DROP_UNKNOWN_SOURCE] = "unknown_source",
	[ORDER_DROP_NOT_LOGGED_IN] = "not_logged_in",
	[ORDER_DROP_BAD_PACKET] = "bad_packet",
	[ORDER_DROP_BAD_MESSAGE] = "bad_message",
};

enum path_ring { TO_RISK, TO_MATCHING, FROM_MATCHING, TO_GATEWAY, TICKS, HALTS, PATH_RINGS };

struct order_path {
	struct order_clock clock;
	struct rte_ring *rings[PATH_RINGS];
	struct order_gateway *gateway;
	struct order_risk_stage *risk;
	struct order_matching_stage *matching;
};

static struct rte_ring *
ring_make(enum path_ring which, unsigned elem_size, unsigned count)
{
	static const char *const names[] = {"order_to_risk", "order_to_matching",
					    "order_from_matching", "order_to_gateway",
					    "order_ticks", "order_halts"};
	struct rte_ring *r = rte_ring_create_elem(names[which], elem_size, count,
						  (int)rte_socket_id(),
						  RING_F_SP_ENQ | RING_F_SC_DEQ);

	if (r == NULL)
		fprintf(stderr, "order path: ring %s of %u: %s\n", names[which], count,
			rte_strerror(rte_errno));
	return r;
}

static void
clock_calibrate(struct order_clock *k)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	k->tsc0 = rte_rdtsc();
	k->ns0 = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	k->ns_per_tsc_q32 = (uint64_t)(((unsigned __int128)1000000000u << 32) / rte_get_tsc_hz());
}

struct order_path *
order_path_create(const struct order_path_params *p)
{
	struct order_path *op = rte_zmalloc("order_path", sizeof(*op), RTE_CACHE_LINE_SIZE);

	if (op == NULL) {
		fprintf(stderr, "order path: cannot allocate it\n");
		return NULL;
	}
	clock_calibrate(&op->clock);
	for (int i = 0; i < PATH_RINGS; i++) {
		static const unsigned sizes[] = {
			[TO_RISK] = sizeof(struct order_request),
			[TO_MATCHING] = sizeof(struct order_request),
			[FROM_MATCHING] = sizeof(struct order_report),
			[TO_GATEWAY] = sizeof(struct order_report),
			[TICKS] = sizeof(struct order_tick), [HALTS] = sizeof(struct order_halt)};
		op->rings[i] = ring_make(i, sizes[i], i == TICKS ? ORDER_TICK_RING : ORDER_PATH_RING);
		if (op->rings[i] == NULL)
			goto fail;
	}
	op->gateway = order_gateway_create(p, &op->clock, op->rings[TO_RISK],
					   op->rings[TO_GATEWAY]);
	op->risk = order_risk_stage_create(p, &op->clock, op->rings[TO_RISK],
					   op->rings[TO_MATCHING], op->rings[FROM_MATCHING],
					   op->rings[TO_GATEWAY], op->rings[HALTS]);
	op->matching = order_matching_stage_create(p, &op->clock, op->rings[TO_MATCHING],
						   op->rings[FROM_MATCHING], op->rings[TICKS]);
	if (op->gateway != NULL && op->risk != NULL && op->matching != NULL) {
		order_telemetry_register(op);
		return op;
	}
fail:
	order_path_destroy(op);
	return NULL;
}

int
order_path_place(struct order_path *op, unsigned gateway_lcore, unsigned risk_lcore,
		 unsigned matching_lcore)
{
	if (order_gateway_place(op->gateway, gateway_lcore) != 0 ||
	    order_risk_stage_place(op->risk, risk_lcore) != 0 ||
	    order_matching_stage_place(op->matching, matching_lcore) != 0)
		return -1;
	return 0;
}

struct rte_ring *
order_path_ticks(struct order_path *op)
{
	return op->rings[TICKS];
}

const uint32_t *
order_path_day_ended(struct order_path *op)
{
	return order_matching_stage_day_ended(op->matching);
}

struct rte_ring *
order_path_halts(struct order_path *op)
{
	return op->rings[HALTS];
}

const struct order_gateway_counters *
order_path_gateway_counters(const struct order_path *op)
{
	return order_gateway_counters(op->gateway);
}

const struct order_risk_counters *
order_path_risk_counters(const struct order_path *op)
{
	return order_risk_stage_counters(op->risk);
}

const struct order_matching_counters *
order_path_matching_counters(const struct order_path *op)
{
	return order_matching_stage_counters(op->matching);
}

void
order_path_destroy(struct order_path *op)
{
	if (op == NULL)
		return;
	order_telemetry_register(NULL);
	order_gateway_destroy(op->gateway);
	order_risk_stage_destroy(op->risk);
	order_matching_stage_destroy(op->matching);
	for (int i = 0; i < PATH_RINGS; i++)
		rte_ring_free(op->rings[i]);
	rte_free(op);
}

/* The control side's callers (the telemetry thread, the control plane's)
 * take turns; the stages never take this lock. */
static pthread_mutex_t control_lock = PTHREAD_MUTEX_INITIALIZER;

static int
control_post(struct order_mailbox *m, struct order_control *c, unsigned timeout_ms)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 1000 * timeout_ms;

	if (m->seq != m->done)
		return -1; /* an earlier request timed out and still waits for its stage */
	m->c = *c;
	__atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&m->done, __ATOMIC_ACQUIRE) != m->seq) {
		if (rte_get_timer_cycles() > deadline)
			return -1;
		rte_delay_us_sleep(100);
	}
	*c = m->c;
	return 0;
}

int
order_path_control(struct order_path *op, struct order_control *c, unsigned timeout_ms)
{
	struct order_mailbox *m = c->type >= ORDER_CONTROL_DEPTH ?
				  order_matching_stage_mailbox(op->matching) :
				  order_risk_stage_mailbox(op->risk);

	pthread_mutex_lock(&control_lock);
	int ret = control_post(m, c, timeout_ms);
	pthread_mutex_unlock(&control_lock);
	return ret;
}
