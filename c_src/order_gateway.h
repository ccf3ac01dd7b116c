/* The gateway stage's state (c_src/order_gateway*.c): sessions, the open
 * orders it names, and each session's sequenced response stream. */
#ifndef ORDER_GATEWAY_H
#define ORDER_GATEWAY_H

#include <stdint.h>

#include "order_path.h"
#include "tx_batch.h"
#include "u64_hash.h"
#include "udp_frame.h"

#define RESPONSE_MAX 95
#define REPORTS_PER_POLL (8 * ORDER_BURST)

/* One response as sent, kept for retransmission. */
struct response_slot {
	uint8_t len;
	uint8_t bytes[RESPONSE_MAX];
};

struct gateway_session {
	struct order_session_params p;
	struct udp_frame_template udp; /* to the bound client */
	uint8_t bound;                 /* logged in from udp.dst_ip / dst_port */
	uint8_t disconnect_owed;       /* timed out; risk not told yet */
	uint8_t listed;                /* in open_sessions */
	uint32_t last_user_ref_num;
	uint64_t next_seq;
	uint64_t last_rx, last_tx;     /* TSC */
	struct response_slot *history; /* by sequence, history_mask + 1 of them */
	struct rte_mbuf *open;         /* responses not yet sent */
	uint64_t open_seq;             /* the open packet's first sequence */
	uint16_t open_count, open_len;
};

/* An open order; its path-wide id is generation << 32 | slot. */
struct gateway_order {
	uint32_t generation;
	uint32_t next_free;            /* free list; MATCH_NONE-terminated */
	uint32_t user_ref_num;
	uint32_t instrument;
	uint16_t session;
	uint8_t live;
	uint8_t replace_pending;       /* a replace is in flight: its answer echoes replace_cl_ord_id */
	uint8_t side, tif, capacity, intermarket_sweep; /* OUCH letters */
	uint64_t price;                /* OUCH */
	char cl_ord_id[14];
	char replace_cl_ord_id[14];
};

struct order_gateway {
	struct order_gateway_counters counters; /* first: cache aligned */
	struct order_path_params p;
	const struct order_clock *clock;
	struct rte_ring *requests, *reports;
	struct tx_batch tx;
	struct gateway_session *sessions;
	struct order_instrument_params *instruments;
	uint64_t *match_numbers;       /* per instrument */
	struct u64_hash symbols;       /* 8 symbol bytes -> instrument */
	struct u64_hash by_address;    /* bound client's IP << 16 | UDP port -> session */
	struct u64_hash by_ref;        /* session << 32 | UserRefNum -> order slot */
	struct gateway_order *orders;
	uint32_t free_order;
	uint64_t history_mask;
	uint16_t max_payload;          /* MoldUDP64 header and blocks in one packet */
	uint16_t *open_sessions, n_open;
	uint64_t now;                  /* TSC at the start of this pass */
	uint8_t started;               /* start of day sent */
	uint64_t heartbeat_tsc, timeout_tsc, next_session_check;
	uint64_t answered_rx_tsc[REPORTS_PER_POLL]; /* this pass's answers, for latency */
	unsigned n_answered;
};

/* order_session_stream.c: sequenced responses and control packets. */
void stream_respond(struct order_gateway *g, struct gateway_session *s,
		const struct ouch_response *r);
void stream_close_all(struct order_gateway *g);
void stream_control(struct order_gateway *g, const struct udp_frame_template *to,
		const uint8_t *msg, uint16_t len);
/* A tickless packet: heartbeat (count 0) or end of session (0xFFFF). */
void stream_marker(struct order_gateway *g, struct gateway_session *s, uint16_t count);
/* The oldest sequence still in the session's history. */
uint64_t stream_first_kept(const struct order_gateway *g, const struct gateway_session *s);
void stream_resend(struct order_gateway *g, struct gateway_session *s, uint64_t first,
		uint64_t count);

/* order_gateway_reports.c: reports from risk into responses. */
void gateway_report(struct order_gateway *g, const struct order_report *rep);
void gateway_reject(struct order_gateway *g, struct gateway_session *s,
		uint32_t user_ref_num, uint16_t reason, const char cl_ord_id[14]);
void gateway_order_free(struct order_gateway *g, uint32_t slot);
/* System Event code (S start of day, E end of day) to every session,
 * logged in or not: it waits in the history of those that are not. */
void gateway_system_event(struct order_gateway *g, uint8_t code, uint64_t time_ns);

/* by_ref's key: unique per session and UserRefNum, with a session's
 * consecutive numbers in neighbouring slots (by_ref indexes by the low
 * bits) and sessions far apart. */
static inline uint64_t
gateway_ref_key(uint16_t session, uint32_t user_ref_num)
{
	return (uint64_t)session << 32 | (uint32_t)(user_ref_num + session * 0x9E3779B1u);
}

#endif
