/* The order path's insides: what travels on its rings, and its three
 * stages. Gateway -> risk -> matching carries requests; matching -> risk ->
 * gateway carries reports (risk sees every fill and cancel on the way, to
 * release what it reserved); matching -> md carries ticks. Every ring has
 * one producer and one consumer. */
#ifndef ORDER_PATH_H
#define ORDER_PATH_H

#include <stdint.h>

#include "colo.h"
#include "colo_tick.h"

#define ORDER_BURST 32
#define OUCH_MARKET_PRICE 0x7FFFFFFF /* OUCH's market-order price */

enum order_request_kind {
	ORDER_REQ_NEW,
	ORDER_REQ_REPLACE,          /* MATCH_CMD_MODIFY answered as a replace ('U') */
	ORDER_REQ_CANCEL,           /* MATCH_CMD_CANCEL, or MODIFY down to what stays open */
	ORDER_REQ_MASS_CANCEL,      /* instrument UINT32_MAX: all of them */
	ORDER_REQ_DISCONNECT,       /* risk only: the session timed out */
	ORDER_REQ_CONNECT,          /* risk only: the session logged in */
	ORDER_REQ_END_OF_DAY        /* reports only: the day's cancels, then this
				     * marker (type MATCH_REPORT_TYPE_N) */
};

struct order_request {
	struct match_command cmd;   /* cmd.order.id: the path's order id */
	uint64_t rx_tsc;            /* when the gateway received it */
	uint32_t instrument;
	uint32_t user_ref_num;      /* of the message, for the answer to it */
	uint16_t session;
	uint8_t kind;               /* enum order_request_kind */
	uint8_t cancel_reason;      /* OUCH cancel reason for cancels the path makes; 0: user */
	uint8_t pad[4];
};

struct order_report {
	struct match_report r;
	uint64_t rx_tsc;            /* first report of a request: the request's; else 0 */
	uint32_t instrument;
	uint32_t user_ref_num;      /* of the request */
	uint16_t session;           /* of the request */
	uint8_t kind;               /* of the request */
	uint8_t cancel_reason;      /* of the request */
	uint8_t risk_reason;        /* a risk reject: enum risk_reason */
	uint8_t order_done;         /* MATCH_MODIFIED: the same request fills or cancels it all */
	uint8_t pad[6];
};

/* Ring elements are whole 4-byte words. */
struct order_tick {
	struct colo_tick tick;
	uint8_t pad[6];
};

/* md -> risk: the feed's trading state of an order-path instrument. */
struct order_halt {
	uint32_t instrument;
	uint32_t halted;
};

_Static_assert(sizeof(struct order_request) % 4 == 0, "ring element");
_Static_assert(sizeof(struct order_report) % 4 == 0, "ring element");
_Static_assert(sizeof(struct order_tick) == 32, "ring element");

/* Wall-clock ns from the TSC, calibrated once when the path is made. */
struct order_clock {
	uint64_t tsc0, ns0;
	uint64_t ns_per_tsc_q32; /* ns per cycle, 32.32 fixed point */
};

static inline uint64_t
order_clock_ns(const struct order_clock *k, uint64_t tsc)
{
	return k->ns0 + (uint64_t)(((unsigned __int128)(tsc - k->tsc0) * k->ns_per_tsc_q32) >> 32);
}

/* A control request waiting for its stage: posted when seq != done. */
struct order_mailbox {
	struct order_control c;
	volatile uint32_t seq, done;
};

/* Takes the mailbox's request if one is posted; the stage answers with
 * mailbox_done. */
static inline struct order_control *
mailbox_take(struct order_mailbox *m)
{
	if (__atomic_load_n(&m->seq, __ATOMIC_ACQUIRE) == m->done)
		return NULL;
	return &m->c;
}

static inline void
mailbox_done(struct order_mailbox *m)
{
	__atomic_store_n(&m->done, m->seq, __ATOMIC_RELEASE);
}

/* order_telemetry.c: serves op's commands (NULL: none). */
struct order_path;
void order_telemetry_register(struct order_path *op);

struct rte_ring;
struct order_gateway;
struct order_risk_stage;
struct order_matching_stage;

struct order_gateway *order_gateway_create(const struct order_path_params *p,
		const struct order_clock *clock, struct rte_ring *requests,
		struct rte_ring *reports);
void order_gateway_destroy(struct order_gateway *g);
int order_gateway_place(struct order_gateway *g, unsigned lcore);
const struct order_gateway_counters *order_gateway_counters(const struct order_gateway *g);

struct order_risk_stage *order_risk_stage_create(const struct order_path_params *p,
		const struct order_clock *clock, struct rte_ring *requests_in,
		struct rte_ring *requests_out, struct rte_ring *reports_in,
		struct rte_ring *reports_out, struct rte_ring *halts);
void order_risk_stage_destroy(struct order_risk_stage *rs);
int order_risk_stage_place(struct order_risk_stage *rs, unsigned lcore);
struct order_mailbox *order_risk_stage_mailbox(struct order_risk_stage *rs);
const struct order_risk_counters *order_risk_stage_counters(const struct order_risk_stage *rs);

struct order_matching_stage *order_matching_stage_create(const struct order_path_params *p,
		const struct order_clock *clock, struct rte_ring *requests, struct rte_ring *reports, struct rte_ring *ticks);
void order_matching_stage_destroy(struct order_matching_stage *ms);
int order_matching_stage_place(struct order_matching_stage *ms, unsigned lcore);
struct order_mailbox *order_matching_stage_mailbox(struct order_matching_stage *ms);
/* Set (once, release) when the matching stage has ended the day. */
const uint32_t *order_matching_stage_day_ended(const struct order_matching_stage *ms);
const struct order_matching_counters *
order_matching_stage_counters(const struct order_matching_stage *ms);

#endif
