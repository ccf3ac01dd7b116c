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
	uint64_t tx_end_of_session;  /* 1 once the tick stream has ended */
	uint64_t tx_dropped;         /* tx ring full or no mbuf */
	uint64_t igmp_reports;
	uint64_t igmp_leaves;        /* on stopping: the switch stops the feed at once */
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
	uint32_t ip;                 /* the port's: IGMP report source, host order (0 allowed) */
};

struct md_stage_params {
	struct md_line_params lines[2];
	unsigned n_lines;
	char feed_session[10];
	int feed_session_fixed;      /* else learned from the first packet */
	int drop_bad_checksum;
	struct itch_normalizer_params normalizer;
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
/* Puts the stage on lcore (see colo_lcores_launch). */
int md_stage_place(struct md_stage *st, unsigned lcore);
/* Ticks of the order path's own books (order_path_ticks), sent in the
 * stage's stream between feed bursts. The stream ends only when the feed
 * has ended and the order path's day too (order_path_day_ended). */
struct rte_ring;
void md_stage_set_order_ticks(struct md_stage *st, struct rte_ring *ticks,
			      const uint32_t *day_ended);
/* The feed's trading state ('H' ticks) of the order path's instruments,
 * given by their symbol ids in order, goes to its risk stage. */
int md_stage_set_order_halts(struct md_stage *st, struct rte_ring *halts,
		const uint32_t *symbol_ids, unsigned n);
const struct md_counters *md_stage_counters(const struct md_stage *st);
void md_stage_destroy(struct md_stage *st);

/* ---- Stages on lcores: each stage is placed on an lcore (several may
 * share one: polled down in placement order and back up), then all start
 * and stop together. ---- */

int colo_lcores_launch(void);
/* Asks every stage to drain and finish (md: end of session); waits. */
int colo_lcores_stop(void);
/* Waits for stages that finish by themselves (stop_after_rx). */
int colo_lcores_wait(void);

/* How an lcore's polling went: rounds over its stages, and stalls (idle
 * polls over 50 us: the core was interrupted or shared). Kept after a stop
 * until stages are placed again. */
struct colo_lcore_stats {
	uint64_t rounds;
	uint64_t stalls;
	uint64_t longest_stall_cycles;
};

const struct colo_lcore_stats *colo_lcore_stats(unsigned lcore);
/* A stage's passes that did work ("md", "gateway", "risk", "matching"), as
 * a TSC histogram (layout as burst_cycles); NULL when no such stage is
 * placed. Kept after a stop, like the lcore stats. */
const uint64_t *colo_stage_busy_cycles(const char *name);

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
/* Waits for what was launched on lcore (forwarder or report drain). */
int colo_lcore_wait(unsigned lcore);
/* The order path's far side: a port whose rx ring the main lcore fills and
 * whose tx ring it drains (one bench port per process); returns its id. */
int colo_order_bench_port_create(unsigned size, struct rte_mempool *mp);
/* Sends n frames into that port, burst at a time, a burst every gap_cycles
 * (0: as fast as the port takes them), draining what it sends meanwhile and
 * for linger_cycles after; returns the frames it sent back. */
uint64_t colo_order_bench_send(struct rte_mempool *mp, const uint8_t *frames,
		const uint16_t *lens, unsigned n, unsigned burst, uint64_t gap_cycles,
		uint64_t linger_cycles);

/* ==== Matching engine (c_src/matching_*.c): one price-time book per
 * instrument, plain C, no DPDK. One writer per book. Time is passed in;
 * the same calls give the same reports, byte for byte. ==== */

enum match_side { MATCH_BUY, MATCH_SELL };
enum match_type { MATCH_LIMIT, MATCH_MARKET };
/* Only limit DAY and GTC orders rest; market orders never do, and trade like
 * IOC orders limited to their price (the protection risk judged them at). */
enum match_tif { MATCH_DAY, MATCH_GTC, MATCH_IOC, MATCH_FOK };
/* Self-trade prevention, decided by the incoming order when it meets a
 * resting order of its own account (and, with stp_by_group, of its own
 * trading group within that account). */
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
	int64_t price;             /* ticks; market orders: the worst they may trade at */
	uint32_t qty;
	uint32_t min_qty;          /* IOC only: trade at least this or nothing; 0 = none */
	uint32_t account;
	uint32_t group;            /* trading group within the account, for STP by group */
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
	MATCH_MODIFY_REJECTED,     /* of a resting order: its price and leaves, unchanged */
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
/* The same replay with the reports handed to another core, as a stage hands
 * them to the gateway: each goes through an SP/SC ring of report records to
 * a drain on lcore that adds them up in *totals (EAL needed). */
struct rte_ring *colo_report_ring_create(const char *name, unsigned count);
int colo_report_drain_launch(unsigned lcore, struct rte_ring *ring, struct match_totals *totals);
int colo_match_run_to_ring(struct match_book *b, const struct match_command *cmds, size_t n,
		struct match_report *out, uint32_t room, struct rte_ring *ring);

/* ==== Pre-trade risk (c_src/risk_*.c): plain C, no DPDK, one writer. Small
 * integer ids for accounts, sessions and instruments, sizes fixed when the
 * limits record is made; open orders in a table sized at creation. Time is
 * passed in. Prices are integer price units (tick_size divides them),
 * notional is price * qty. ==== */

/* Why a new order, replace or message was refused, checked in this order
 * but for the two appended last, checked where their comments say. Names
 * in risk_reason_names. */
enum risk_reason {
	RISK_OK,
	RISK_INVALID,              /* id out of range, side, qty 0, price < 0 (replace: <= 0) */
	RISK_KILLED_ALL,           /* the global kill switch */
	RISK_KILLED_SESSION,
	RISK_KILLED_ACCOUNT,
	RISK_DISCONNECTED,         /* the session was marked disconnected */
	RISK_MESSAGE_RATE,         /* every message of a session */
	RISK_ORDER_RATE,           /* new orders of a session */
	RISK_DUPLICATE_ID,         /* the id is open: a repeated client order token */
	RISK_RESTRICTED,           /* the instrument, for this account */
	RISK_HALTED,
	RISK_LOT_SIZE,
	RISK_TICK_SIZE,
	RISK_MAX_QTY,
	RISK_PRICE_COLLAR,
	RISK_MAX_NOTIONAL,
	RISK_MAX_OPEN_ORDERS,      /* the account's */
	RISK_ORDERS_FULL,          /* the open order table (max_orders) */
	RISK_CREDIT,               /* buys: buying power / credit limit */
	RISK_SHORT_SELL,           /* sells beyond the position, not allowed short */
	RISK_POSITION_LIMIT,       /* long or short, counting open orders */
	RISK_NOT_OPEN,             /* replaces: the id is not open; right after INVALID */
	RISK_NO_REFERENCE,         /* market orders: no price to judge; after TICK_SIZE */
	RISK_REASON_N
};

extern const char *const risk_reason_names[];

/* Limits of one account. Money and share limits are at most 2^62. */
struct risk_account_limits {
	int64_t max_order_notional;
	int64_t credit_limit;        /* open buy notional + bought - sold notional */
	uint32_t max_order_qty;
	uint32_t max_open_orders;
	uint8_t short_sell;          /* may sell more than it holds */
};

/* Token buckets of one session: one message per interval on average, up to
 * burst at once; interval 0 = no throttle. */
struct risk_session_limits {
	uint64_t msg_interval_ns;
	uint64_t order_interval_ns;
	uint32_t msg_burst;
	uint32_t order_burst;
	uint8_t cancel_on_disconnect;
};

/* Price collar: the price within ref_price +- the narrower of collar_bp
 * (hundredths of a percent of it) and collar_ticks ticks; 0 turns either
 * off, no reference turns the collar off. */
struct risk_instrument_limits {
	int64_t tick_size;           /* 1 .. 2^32 */
	int64_t ref_price;           /* 0 = none */
	int64_t collar_ticks;        /* 0 .. 2^32 */
	uint32_t lot_size;           /* >= 1 */
	uint32_t collar_bp;
	uint8_t ref_last_trade;      /* the last trade, once there is one, is the reference */
};

/* One account in one instrument, in shares, counting open orders. */
struct risk_position_limits {
	int64_t max_long;            /* position + open buys */
	int64_t max_short;           /* open sells - position */
	uint8_t restricted;
};

/* A whole set of limits. Made with everything allowed but short selling
 * (limits 2^62, tick and lot 1, no collar, no throttle); edited in place
 * through the pointers below (NULL for an id out of range); put in force by
 * risk_create or risk_swap_limits, which check all of it first. Keep it
 * alive and unchanged while in force. */
struct risk_limits;

struct risk_limits *risk_limits_create(uint32_t accounts, uint32_t sessions,
		uint32_t instruments);
void risk_limits_destroy(struct risk_limits *l);
struct risk_account_limits *risk_limits_account(struct risk_limits *l, uint32_t account);
struct risk_session_limits *risk_limits_session(struct risk_limits *l, uint32_t session);
struct risk_instrument_limits *risk_limits_instrument(struct risk_limits *l,
		uint32_t instrument);
struct risk_position_limits *risk_limits_position(struct risk_limits *l, uint32_t account,
		uint32_t instrument);

struct risk_order {
	uint64_t id;                 /* as matching will know it; unique among open orders */
	uint64_t time_ns;            /* arrival */
	int64_t price;               /* 0: market, judged at its protection price */
	uint32_t qty;
	uint32_t account;
	uint32_t session;
	uint32_t instrument;
	uint8_t side;                /* enum match_side */
};

/* What an account holds and has reserved. */
struct risk_account_state {
	int64_t open_buy_notional;   /* reserved at the orders' limit prices */
	int64_t net_bought;          /* bought - sold notional */
	uint32_t open_orders;
	uint8_t killed;
};

struct risk_position_state {
	int64_t position;            /* shares, short below 0 */
	int64_t open_buy_qty;
	int64_t open_sell_qty;
};

struct risk;

/* NULL when out of memory, max_orders is 0 or over 2^31 - 1, or the limits
 * are invalid.
 * sequential_ids: as match_book_create. */
struct risk *risk_create(const struct risk_limits *l, uint32_t max_orders,
		int sequential_ids);
void risk_destroy(struct risk *r);
/* Puts a new record in force from the next order on, whole: 0, or -1 and
 * nothing changed when it is invalid or sized for other ids. */
int risk_swap_limits(struct risk *r, const struct risk_limits *l);

/* A new order: RISK_OK and it is open (its notional and shares reserved),
 * or why it is refused (enum risk_reason). A market order (price 0) is
 * judged and reserved at its protection price: a buy at the collar's top, a
 * sell at its bottom (at least 1); with no collar at the reference. */
int risk_check_order(struct risk *r, const struct risk_order *o);
/* The price open order id is reserved at (a market order's protection
 * price, its limit in matching), or 0 when it is not open. */
int64_t risk_open_price(const struct risk *r, uint64_t id);
/* Any other message of a session (a cancel, say): the message throttle. */
int risk_check_message(struct risk *r, uint32_t session, uint64_t time_ns);

/* From matching: qty of an open order traded at price, or cancelled, and
 * `open` of it left there. A fill always moves position and net bought; the
 * reservation loses qty but never goes below 0 (a replace judged while fills
 * of the old order were on their way cut it already); at open 0 the order
 * closes and the rest of its reservation goes. 0, or -1 for an unknown id
 * or qty 0. */
int risk_fill(struct risk *r, uint64_t id, uint32_t qty, int64_t price, uint32_t open);
int risk_cancel(struct risk *r, uint64_t id, uint32_t qty, uint32_t open);
/* From matching, answering a replace: it has `open` of the order open at
 * price, and that is what is reserved from now on. 0, or -1 for an unknown
 * id, open 0 or price <= 0. */
int risk_settle(struct risk *r, uint64_t id, int64_t price, uint32_t open);
/* A replace of open order id: the new limit price (> 0) and total open qty.
 * A message of its session, judged as a new order would be with the old
 * one gone (no order throttle, id or open order count): RISK_OK and its
 * reservation moved, or why not and the reservation as it was. */
int risk_replace(struct risk *r, uint64_t id, int64_t price, uint32_t qty, uint64_t time_ns);
/* From outside: the last trade price (a collar reference), the halt status. */
int risk_trade(struct risk *r, uint32_t instrument, int64_t price);
int risk_halt(struct risk *r, uint32_t instrument, int halted);

enum risk_scope { RISK_SCOPE_ALL, RISK_SCOPE_SESSION, RISK_SCOPE_ACCOUNT };

/* Kill switch on or off for everything, a session or an account: while on,
 * new orders in scope are refused. Switching on writes the ids of the open
 * orders in scope to ids[] (room >= risk_max_orders), in no given order,
 * for the caller to cancel; returns how many, or -1 (bad scope or id, or
 * too little room). */
int risk_kill(struct risk *r, uint8_t scope, uint32_t id, int on, uint64_t *ids,
		uint32_t room);
/* A session stopped heartbeating: its new orders are refused until
 * risk_connect, and when its limits ask for cancel-on-disconnect its open
 * orders are written to ids[] as above. */
int risk_disconnect(struct risk *r, uint32_t session, uint64_t *ids, uint32_t room);
int risk_connect(struct risk *r, uint32_t session);

uint32_t risk_max_orders(const struct risk *r);
uint32_t risk_open_orders(const struct risk *r);
int risk_account(const struct risk *r, uint32_t account, struct risk_account_state *out);
int risk_position(const struct risk *r, uint32_t account, uint32_t instrument,
		struct risk_position_state *out);

/* Benchmarks: checks n orders one after the other, counting verdicts in
 * by_reason[RISK_REASON_N]; and the same loop doing only the lookups of
 * account, session and instrument (the baseline), returning a checksum. */
void risk_run(struct risk *r, const struct risk_order *orders, size_t n, uint64_t *by_reason);
uint64_t risk_lookup_run(const struct risk *r, const struct risk_order *orders, size_t n);

/* ==== Order entry: inbound OUCH 5.0 order messages (docs/order-entry.md),
 * parsed without EAL (c_src/ouch_order.c). ==== */

enum ouch_parse_result { OUCH_OK, OUCH_UNKNOWN_TYPE, OUCH_BAD_LENGTH, OUCH_BAD_APPENDAGE };

struct ouch_order_msg {
	uint8_t type;                /* 'O' enter, 'U' replace, 'X' cancel, 'C' mass cancel */
	uint32_t user_ref_num;
	uint32_t orig_user_ref_num;  /* replace: the order replaced */
	uint8_t side;
	uint32_t quantity;
	char symbol[8];
	uint64_t price;              /* 4 implied decimals */
	uint8_t time_in_force, display, capacity, intermarket_sweep, cross_type;
	char cl_ord_id[14];
	char firm[4];
	uint32_t min_qty;            /* appendage options, each with its has_ flag */
	uint16_t group_id;
	uint8_t post_only, self_trade;
	uint8_t has_min_qty, has_post_only, has_group_id, has_self_trade;
};

/* Parses exactly one message of len bytes; returns an ouch_parse_result. */
int ouch_order_parse(const uint8_t *msg, uint16_t len, struct ouch_order_msg *out);

/* An outbound response: the fields its type uses (see docs/order-entry.md). */
struct ouch_response {
	uint8_t type;                /* 'S', 'A', 'U', 'C', 'E', 'J' */
	uint64_t timestamp;          /* ns since midnight */
	uint32_t user_ref_num;
	uint32_t orig_user_ref_num;
	uint8_t side;
	uint32_t quantity;
	char symbol[8];
	uint64_t price;
	uint8_t time_in_force, display, capacity, intermarket_sweep, cross_type, order_state;
	uint64_t order_ref;
	char cl_ord_id[14];
	uint8_t event_code;          /* 'S' */
	uint16_t reason;             /* 'C': the cancel reason (a letter); 'J': the reject reason */
	uint8_t liquidity_flag;      /* 'E' */
	uint64_t match_number;       /* 'E' */
};

/* Writes the response into buf; returns its length, or -1 for an unknown
 * type or too little room. */
int ouch_response_write(uint8_t *buf, uint16_t room, const struct ouch_response *r);

/* ==== The order path (c_src/order_*.c, docs/order-entry.md): a gateway,
 * a risk and a matching stage joined by SP/SC rings; each placed on an
 * lcore like the md stage. Orders are known by a path-wide 64-bit id the
 * gateway hands out; prices are OUCH's ($0.0001 units). ==== */

/* Datagrams the gateway dropped without an answer. Names in
 * order_drop_reason_names. */
enum order_drop_reason {
	ORDER_DROP_NOT_GATEWAY,      /* IPv4/UDP, but not to the gateway's address and port */
	ORDER_DROP_UNKNOWN_SOURCE,   /* from no session's allowed sources */
	ORDER_DROP_NOT_LOGGED_IN,    /* other than a login, from an address no session is bound to */
	ORDER_DROP_BAD_PACKET,       /* client packet lengths overrun the datagram, unknown type */
	ORDER_DROP_BAD_MESSAGE,      /* an order message that does not parse */
	ORDER_DROP_N
};

extern const char *const order_drop_reason_names[];

/* Highest OUCH reject code (docs/order-entry.md), plus one. */
enum { ORDER_REJECT_CODES = 24 };

/* Written only by the gateway's lcore. */
struct order_gateway_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_dropped;         /* no mbuf, or the tx ring full */
	uint64_t ip_checksum_errors;
	uint64_t udp_checksum_errors;
	uint64_t arp_replies;
	uint64_t logins;
	uint64_t login_rejects;
	uint64_t logouts;
	uint64_t timeouts;           /* sessions silent for timeout: logged out */
	uint64_t heartbeats_rx;
	uint64_t heartbeats_tx;
	uint64_t retransmit_requests;
	uint64_t retransmitted;      /* responses sent again */
	uint64_t repeats;            /* a UserRefNum not above the last: answered, not executed */
	uint64_t orders_full;        /* enters refused: max_orders open */
	uint64_t frame_drops[COLO_DROP_N];
	uint64_t drops[ORDER_DROP_N];
	uint64_t messages_by_type[256];   /* order messages accepted for processing: O U X C */
	uint64_t responses_by_type[256];  /* sequenced responses: S A U C E J */
	uint64_t rejects[ORDER_REJECT_CODES]; /* 'J' by reason code */
	uint64_t latency_cycles[COLO_HIST_BUCKETS]; /* gateway rx to the first answer's tx */
};

struct order_risk_counters {
	uint64_t requests;
	uint64_t passed;             /* on to matching */
	uint64_t reports;
	uint64_t kill_cancels;       /* cancels sent by a kill switch or a disconnect */
	uint64_t limit_swaps;
	uint64_t rejects[32];        /* by enum risk_reason */
};

struct order_matching_counters {
	uint64_t commands;
	uint64_t reports;
	uint64_t trades;
	uint64_t traded_qty;
	uint64_t ticks;
	uint64_t ticks_dropped;      /* the md stage's tick ring full */
	uint64_t reports_by_type[MATCH_REPORT_TYPE_N];
};

struct order_session_params {
	char name[10];               /* space padded, as on the wire */
	char username[6];
	char password[10];
	uint32_t account;            /* risk's account id */
	uint32_t n_sources;
	uint32_t source_net[8];      /* allowed source networks, host order */
	uint32_t source_mask[8];
};

struct order_instrument_params {
	char symbol[8];              /* space padded */
	uint32_t symbol_id;          /* in ticks */
};

struct order_path_params {
	uint16_t port_id;
	uint8_t mac[6];
	uint32_t ip;                 /* the gateway's address, host order */
	uint16_t udp_port;
	uint16_t mtu;
	uint32_t heartbeat_ms;
	uint32_t timeout_ms;
	uint32_t max_orders;         /* open at once, whole path */
	uint32_t history;            /* responses kept per session, a power of two */
	uint64_t midnight_ns;        /* epoch ns of local midnight: OUCH timestamps count from it */
	const struct risk_limits *limits; /* accounts, sessions, instruments by position */
	struct rte_mempool *tx_pool;
	uint32_t n_sessions;
	uint32_t n_instruments;
	const struct order_session_params *sessions;
	const struct order_instrument_params *instruments;
};

/* Slots of the path's rings: requests and reports between stages, the
 * feed's halts; ticks to the md stage wait for its next pass. */
enum { ORDER_PATH_RING = 4096, ORDER_TICK_RING = 16384 };

struct order_path;

struct order_path *order_path_create(const struct order_path_params *p);
int order_path_place(struct order_path *p, unsigned gateway_lcore, unsigned risk_lcore,
		unsigned matching_lcore);
/* The trades and quotes of the path's books, for md_stage_set_order_ticks. */
struct rte_ring *order_path_ticks(struct order_path *p);
/* Non-zero once the path's day has ended (ORDER_CONTROL_END_OF_DAY). */
const uint32_t *order_path_day_ended(struct order_path *p);
/* The feed's halts of the path's instruments, for md_stage_set_order_halts. */
struct rte_ring *order_path_halts(struct order_path *p);
const struct order_gateway_counters *order_path_gateway_counters(const struct order_path *p);
const struct order_risk_counters *order_path_risk_counters(const struct order_path *p);
const struct order_matching_counters *order_path_matching_counters(const struct order_path *p);
void order_path_destroy(struct order_path *p);

/* Control-plane requests, applied by the stage that owns the state between
 * two of its messages. */
enum order_control_type {
	ORDER_CONTROL_KILL,          /* risk: scope, id, on; open orders in scope are cancelled */
	ORDER_CONTROL_LIMITS,        /* risk: limits in force from the next order */
	ORDER_CONTROL_ACCOUNT,       /* risk: account id's state into account */
	ORDER_CONTROL_POSITION,      /* risk: account id's position in instrument */
	ORDER_CONTROL_DEPTH,         /* matching: instrument's top levels into depth */
	ORDER_CONTROL_END_OF_DAY     /* matching: DAY orders cancelled (cancels: how many),
				      * then every session gets System Event 'E' */
};

enum { ORDER_DEPTH_LEVELS = 10 };

struct order_depth_level {
	int64_t price;
	uint64_t qty;
	uint32_t orders;
};

struct order_control {
	uint8_t type;                /* enum order_control_type */
	uint8_t scope;               /* enum risk_scope */
	uint8_t on;
	uint32_t id;
	uint32_t instrument;
	const struct risk_limits *limits;
	int32_t result;              /* 0, or -1: refused (bad id, invalid limits) */
	uint32_t cancels;            /* KILL, END_OF_DAY: orders it cancelled */
	struct risk_account_state account;
	struct risk_position_state position;
	uint32_t n_bids;
	uint32_t n_asks;
	struct order_depth_level bids[ORDER_DEPTH_LEVELS];
	struct order_depth_level asks[ORDER_DEPTH_LEVELS];
};

/* Hands a copy of c to its stage and waits up to timeout_ms for the answer,
 * copied back into c: 0, or -1 on a timeout (the stage is not running, or
 * still busy with an earlier request). Callers on several threads take
 * turns. */
int order_path_control(struct order_path *p, struct order_control *c, unsigned timeout_ms);

#endif
