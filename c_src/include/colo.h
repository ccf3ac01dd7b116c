/* Colo data plane: the public C API. This file is also the cffi cdef (the
 * build script drops preprocessor lines), so it holds plain declarations
 * only: no macros, no inline code, no packed structs. */
#ifndef COLO_H
#define COLO_H

#include <stdint.h>
#include <stddef.h>

struct rte_mempool;

/* Why a received frame was dropped. Names in colo_drop_reason_names. */
enum colo_drop_reason {
	COLO_DROP_RUNT,            /* shorter than Ethernet + IPv4 + UDP headers */
	COLO_DROP_NOT_IPV4_UDP,    /* ARP, IPv6, TCP, IP options we do not parse... */
	COLO_DROP_IP_FRAGMENT,
	COLO_DROP_BAD_LENGTH,      /* IP / UDP / frame lengths do not add up */
	COLO_DROP_BAD_CHECKSUM,    /* only when configured to drop them */
	COLO_DROP_NOT_SUBSCRIBED,  /* not a configured group and port */
	COLO_DROP_BAD_MOLDUDP64,   /* header short, block lengths overrun */
	COLO_DROP_WRONG_SESSION,
	COLO_DROP_DUPLICATE,       /* already seen on the other line */
	COLO_DROP_AFTER_END,       /* messages after the feed's end of session */
	COLO_DROP_N
};

/* Per-message events that produce no tick. Names in colo_msg_event_names. */
enum colo_msg_event {
	COLO_MSG_ORPHAN_REF,       /* E/C/X/D/U naming an order not on the book */
	COLO_MSG_DUPLICATE_REF,    /* add of a reference that is already live */
	COLO_MSG_BAD_LENGTH,       /* length differs from the type's */
	COLO_MSG_UNKNOWN_TYPE,
	COLO_MSG_ZERO_SHARES,
	COLO_MSG_BAD_FIELD,        /* side not B/S */
	COLO_MSG_BOOK_FULL,
	COLO_MSG_SYMBOLS_FULL,
	COLO_MSG_EVENT_N
};

/* Burst processing time histogram: log-linear in TSC cycles, 8 buckets per
 * power of two (bucket i < 8 is i cycles). */
enum { COLO_HIST_BUCKETS = 496 };

/* Written only by the md stage's lcore; read by the control plane at any
 * time (aligned 64-bit loads are atomic on the platforms DPDK supports). */
struct md_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t feed_packets;       /* MoldUDP64 packets accepted */
	uint64_t messages;           /* ITCH messages applied */
	uint64_t ip_checksum_errors;
	uint64_t udp_checksum_errors;
	uint64_t gaps;               /* arbitrated stream: gap events */
	uint64_t gap_messages;       /* ... and messages missed */
	uint64_t line_packets[2];
	uint64_t line_gaps[2];
	uint64_t line_gap_messages[2];
	uint64_t feed_end_of_session;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_ticks;
	uint64_t tx_heartbeats;
	uint64_t tx_dropped;         /* tx ring full or no mbuf */
	uint64_t igmp_reports;
	uint64_t arp_replies;
	uint64_t rerequests;         /* answered */
	uint64_t rerequest_ticks;    /* ticks resent */
	uint64_t rerequests_refused; /* wrong session, or range not in the buffer */
	uint64_t bursts;
	uint64_t drops[COLO_DROP_N];
	uint64_t msg_events[COLO_MSG_EVENT_N];
	uint64_t messages_by_type[256];
	uint64_t ticks_by_type[256];
	uint64_t burst_cycles[COLO_HIST_BUCKETS];
};

extern const char *const colo_drop_reason_names[];
extern const char *const colo_msg_event_names[];

/* ---- Normalizer alone (no EAL): unit tests and benchmarks. ---- */

struct itch_normalizer_params {
	uint32_t max_orders;
	uint32_t max_symbols;
	uint64_t midnight_ns;        /* epoch ns of the session date's local midnight */
};

struct colo_normalizer;

struct colo_normalizer *colo_normalizer_create(const struct itch_normalizer_params *p);
void colo_normalizer_destroy(struct colo_normalizer *cn);
int colo_normalizer_set_symbol_id(struct colo_normalizer *cn, const char stock[8], uint32_t id);
/* Normalizes messages laid out as MoldUDP64 blocks (u16 big-endian length,
 * then the message). Writes up to max_ticks 26-byte ticks; returns how many,
 * and sets *consumed to the bytes of input used (stops early when out of
 * room). */
size_t colo_normalizer_run(struct colo_normalizer *cn, const uint8_t *blocks, size_t len,
		uint8_t *ticks, size_t max_ticks, size_t *consumed);
const struct md_counters *colo_normalizer_counters(const struct colo_normalizer *cn);
uint16_t itch_message_length(uint8_t type);

/* ---- EAL and ports. ---- */

int colo_eal_init(int argc, char **argv);
int colo_eal_cleanup(void);
uint64_t colo_tsc_hz(void);

struct rte_mempool *colo_mempool_create(const char *name, unsigned mbufs, unsigned cache,
		unsigned data_room, int socket);
void colo_mempool_free(struct rte_mempool *mp);

struct colo_port_info {
	uint16_t port_id;
	int socket;
	uint8_t mac[6];
	char driver[32];
};

/* Configures one rx and one tx queue, starts the port, enables all-multicast
 * and promiscuous mode when asked. Returns 0, or a negative errno after
 * printing what failed. */
int colo_port_start(const char *device_name, struct rte_mempool *mp, uint16_t rx_desc,
		uint16_t tx_desc, int allmulticast, struct colo_port_info *info);
void colo_port_close(uint16_t port_id);

/* ---- The market-data stage. ---- */

struct md_line_params {
	uint16_t port_id;
	uint32_t group;              /* IPv4, host order; 0 = any */
	uint16_t udp_port;           /* 0 = any */
};

struct md_stage_params {
	struct md_line_params lines[2];
	unsigned n_lines;
	char feed_session[10];
	int feed_session_fixed;      /* else learned from the first packet */
	int drop_bad_checksum;
	struct itch_normalizer_params normalizer;
	uint32_t feed_ip;            /* IGMP report source, host order (0 allowed) */
	int send_igmp;
	uint16_t out_port_id;
	uint8_t out_src_mac[6];
	uint32_t out_src_ip;         /* host order */
	uint32_t out_group;          /* host order */
	uint16_t out_src_port;
	uint16_t out_dst_port;
	uint16_t mtu;
	uint8_t ttl;
	char out_session[10];
	uint16_t rerequest_port;     /* unicast MoldUDP64 requests at out_src_ip; 0 = off */
	uint32_t retransmit_ticks;   /* ticks kept for re-requests, a power of two */
	struct rte_mempool *tx_pool;
	uint64_t stop_after_rx;      /* benchmarks: return after this many frames (0: never) */
	uint32_t arbitration_wait_us; /* how long a hole on one line waits for the other */
};

struct md_stage;

struct md_stage *md_stage_create(const struct md_stage_params *p);
int md_stage_set_symbol_id(struct md_stage *st, const char stock[8], uint32_t id);
int md_stage_launch(struct md_stage *st, unsigned lcore);
/* Asks the stage to flush, send end-of-session and return; then waits. */
int md_stage_stop(struct md_stage *st);
/* Waits for a stage that returns by itself (stop_after_rx). */
int md_stage_wait(struct md_stage *st);
const struct md_counters *md_stage_counters(const struct md_stage *st);
void md_stage_destroy(struct md_stage *st);

/* ---- Benchmark tools: the ceiling the md stage is measured against. ---- */

/* A started port on a new single-producer/consumer ring of `size` slots
 * whose tx feeds its own rx (DPDK's ring PMD); returns its id or -1. */
int colo_ring_port_create(const char *name, unsigned size, struct rte_mempool *mp);
/* Copies frames (concatenated, with lens) into mbufs and sends them all on
 * port, waiting for mbufs and ring room while a consumer drains it. */
unsigned colo_frames_send(uint16_t port, struct rte_mempool *mp, const uint8_t *frames,
		const uint16_t *lens, unsigned n);
/* Bare forwarding on lcore: rx burst from rx_port, tx burst to tx_port,
 * until n packets have passed. */
int colo_forward_launch(unsigned lcore, uint16_t rx_port, uint16_t tx_port, uint64_t n);
int colo_forward_wait(unsigned lcore);

/* ==== Matching engine (c_src/matching_*.c): one price-time book per
 * instrument, plain C, no DPDK. One writer per book. Time is passed in;
 * the same calls give the same reports, byte for byte. ==== */

enum match_side { MATCH_BUY, MATCH_SELL };
enum match_type { MATCH_LIMIT, MATCH_MARKET };
/* Only limit DAY and GTC orders rest; market orders never do. */
enum match_tif { MATCH_DAY, MATCH_GTC, MATCH_IOC, MATCH_FOK };
/* Self-trade prevention, decided by the incoming order when it meets a
 * resting order of its own account (or trading group, stp_by_group). */
enum match_stp {
	MATCH_STP_NONE,            /* self trades allowed */
	MATCH_STP_CANCEL_NEWEST,   /* the incoming order's rest is cancelled */
	MATCH_STP_CANCEL_OLDEST,   /* the resting order is cancelled, matching goes on */
	MATCH_STP_CANCEL_BOTH,
	MATCH_STP_DECREMENT,       /* both lose the smaller quantity; an order at 0 is gone */
	MATCH_STP_N
};

struct match_order {
	uint64_t id;               /* the caller's, unique among live orders */
	int64_t price;             /* ticks; ignored for market orders */
	uint32_t qty;
	uint32_t min_qty;          /* IOC only: trade at least this or nothing; 0 = none */
	uint32_t account;
	uint32_t group;            /* trading group, for STP by group */
	uint8_t side;              /* enum match_side */
	uint8_t type;              /* enum match_type */
	uint8_t tif;               /* enum match_tif */
	uint8_t post_only;         /* rejected if it would take liquidity */
	uint8_t stp;               /* enum match_stp */
	uint8_t stp_by_group;
};

enum match_report_type {
	MATCH_ACCEPTED,            /* a new order passed its checks: qty, price, leaves */
	MATCH_REJECTED,            /* a new order refused: reason */
	MATCH_FILL,                /* id is the taker; price is the maker's */
	MATCH_CANCELLED,           /* qty taken off; leaves > 0 after an STP decrement */
	MATCH_MODIFIED,            /* price and qty (= leaves) now; priority_kept */
	MATCH_CANCEL_REJECTED,
	MATCH_MODIFY_REJECTED,
	MATCH_REPORT_TYPE_N
};

enum match_reason {
	MATCH_REASON_NONE,
	MATCH_REASON_USER,         /* cancels */
	MATCH_REASON_UNFILLED,     /* rest of an IOC or market order */
	MATCH_REASON_FOK,          /* a fill-or-kill that could not fill, book untouched */
	MATCH_REASON_MIN_QTY,      /* an IOC that could not trade its minimum, book untouched */
	MATCH_REASON_SELF_TRADE,
	MATCH_REASON_MASS_CANCEL,
	MATCH_REASON_END_OF_DAY,
	MATCH_REASON_INVALID,      /* rejects: bad field or combination */
	MATCH_REASON_DUPLICATE_ID,
	MATCH_REASON_BOOK_FULL,
	MATCH_REASON_POST_ONLY,
	MATCH_REASON_NOT_RESTING,  /* cancel or modify of an unknown or finished order */
	MATCH_REASON_N
};

/* 48 bytes, no padding: written whole, so equal inputs give equal bytes. */
struct match_report {
	uint64_t id;
	uint64_t maker_id;         /* fills */
	int64_t price;             /* the order's limit (0 for market); fills: trade price */
	uint64_t time_ns;          /* the time passed with the message */
	uint32_t qty;              /* accepted: ordered; fill: traded; cancelled: removed */
	uint32_t leaves;           /* of id, after this report */
	uint32_t maker_leaves;     /* fills */
	uint8_t type;              /* enum match_report_type */
	uint8_t reason;            /* enum match_reason */
	uint8_t side;              /* of id; 0 when id is unknown */
	uint8_t priority_kept;     /* modified */
};

struct match_book;

/* NULL when out of memory or max_orders is 0. sequential_ids: ids are
 * handed out in sequence (a gateway's counter), so the id index uses their
 * low bits and recent orders share cache lines (2-3x faster on big books);
 * ids with fixed low bits would share probe chains, so other ids are
 * hashed. */
struct match_book *match_book_create(uint32_t max_orders, int sequential_ids);
void match_book_destroy(struct match_book *b);
/* The most reports one call can write (2 per resting order touched + 2):
 * every call below needs out[] this long, else returns -1, doing nothing.
 * They return how many reports they wrote. */
uint32_t match_report_room(const struct match_book *b);

int match_submit(struct match_book *b, const struct match_order *o, uint64_t time_ns,
		struct match_report *out, uint32_t room);
int match_cancel(struct match_book *b, uint64_t id, uint64_t time_ns,
		struct match_report *out, uint32_t room);
/* qty is the new open quantity: lower at the same price keeps priority;
 * anything else re-enters the order (and may trade). */
int match_modify(struct match_book *b, uint64_t id, int64_t price, uint32_t qty,
		uint64_t time_ns, struct match_report *out, uint32_t room);
/* Cancels an account's resting orders, bids then asks, in priority order. */
int match_mass_cancel(struct match_book *b, uint32_t account, uint64_t time_ns,
		struct match_report *out, uint32_t room);
/* Cancels every resting DAY order, in the same order. */
int match_end_of_day(struct match_book *b, uint64_t time_ns, struct match_report *out,
		uint32_t room);

/* 1 and the best level's price and total open quantity, or 0 when the side
 * is empty. */
int match_best(const struct match_book *b, uint8_t side, int64_t *price, uint64_t *qty);
uint64_t match_qty_at(const struct match_book *b, uint8_t side, int64_t price);
uint32_t match_live_orders(const struct match_book *b);

/* Messages as data, for drivers that replay them (benchmarks, rings). */
enum match_command_type {
	MATCH_CMD_SUBMIT,          /* all of order */
	MATCH_CMD_CANCEL,          /* order.id */
	MATCH_CMD_MODIFY,          /* order.id, .price, .qty */
	MATCH_CMD_MASS_CANCEL,     /* order.account */
	MATCH_CMD_END_OF_DAY
};

struct match_command {
	uint64_t time_ns;
	struct match_order order;
	uint8_t type;              /* enum match_command_type */
};

struct match_totals {
	uint64_t messages;
	uint64_t reports;
	uint64_t traded_qty;
	uint64_t by_type[MATCH_REPORT_TYPE_N];
};

/* One command; -1 for an unknown type or too small an out[]. */
int match_apply(struct match_book *b, const struct match_command *c,
		struct match_report *out, uint32_t room);
/* Applies n commands one at a time (reports overwrite out[] each time) and
 * adds them up in *totals; returns 0, or -1 at the first command refused. */
int match_run(struct match_book *b, const struct match_command *cmds, size_t n,
		struct match_report *out, uint32_t room, struct match_totals *totals);

#endif
