/* The gateway stage: OUCH 5.0 order entry over UDP (docs/order-entry.md).
 * It receives on the order port, logs sessions in, checks each message's
 * fields and numbering, hands orders to risk as requests, and answers from
 * the reports that come back, on the same lcore pass. */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "burst_histogram.h"
#include "lcore_runner.h"
#include "matching_book.h"
#include "moldudp64_rx.h"
#include "order_gateway.h"
#include "table_alloc.h"

#define RX_BURST 8 /* small: after a stall, each order waits for the burst it came in */
#define RX_ROOM (32 * RX_BURST) /* requests a burst may make: a datagram holds a few dozen */
#define LOGIN_LEN 47
#define REQUEST_LEN 11
#define SESSION_CHECK_US 1000

static const char blank_cl_ord_id[14] = "              ";

/* ---- sessions ---- */

static int
source_allowed(const struct gateway_session *s, uint32_t ip)
{
	for (uint32_t i = 0; i < s->p.n_sources; i++)
		if ((ip & s->p.source_mask[i]) == s->p.source_net[i])
			return 1;
	return 0;
}

static uint64_t
address_key(uint32_t ip, uint16_t port)
{
	return (uint64_t)ip << 16 | port;
}

/* The session bound to the sender's address, found by hash: one probe per
 * datagram however many sessions there are. */
static struct gateway_session *
bound_session(struct order_gateway *g, const struct udp_view *v)
{
	uint32_t i = u64_hash_get(&g->by_address, address_key(v->src_ip, v->src_port));

	return i == U64_HASH_EMPTY ? NULL : &g->sessions[i];
}

static void
session_unbind(struct order_gateway *g, struct gateway_session *s)
{
	u64_hash_del(&g->by_address, address_key(s->udp.dst_ip, s->udp.dst_port));
	s->bound = 0;
}

static int
any_session_allows(const struct order_gateway *g, uint32_t ip)
{
	for (uint32_t i = 0; i < g->p.n_sessions; i++)
		if (source_allowed(&g->sessions[i], ip))
			return 1;
	return 0;
}

/* To the sender of v, from the gateway's address. */
static struct udp_frame_template
reply_to(const struct order_gateway *g, const struct udp_view *v)
{
	struct udp_frame_template t = {.src_ip = g->p.ip, .dst_ip = v->src_ip,
				       .src_port = g->p.udp_port, .dst_port = v->src_port,
				       .ttl = 64};

	memcpy(t.src_mac, g->p.mac, 6);
	memcpy(t.dst_mac, v->src_mac, 6);
	return t;
}

static int
request_send(struct order_gateway *g, struct order_request *rq)
{
	return rte_ring_enqueue_elem(g->requests, rq, sizeof(*rq));
}

/* SoupBinTCP's numeric field: ASCII digits, space padded; -1 if not one. */
static int64_t
ascii_number(const uint8_t *p, unsigned width)
{
	int64_t v = 0;
	int digits = 0;

	for (unsigned i = 0; i < width; i++) {
		if (p[i] == ' ' && digits == 0)
			continue;
		if (p[i] < '0' || p[i] > '9' || digits == 18)
			return -1;
		v = v * 10 + (p[i] - '0');
		digits++;
	}
	return v;
}

static void
login_reject(struct order_gateway *g, const struct udp_view *v, uint8_t reason)
{
	uint8_t msg[2] = {'J', reason};
	struct udp_frame_template to = reply_to(g, v);

	g->counters.login_rejects++;
	stream_control(g, &to, msg, sizeof(msg));
}

/* The session a username owns: usernames are unique in the config. */
static struct gateway_session *
session_of_user(struct order_gateway *g, const uint8_t *username)
{
	for (uint32_t i = 0; i < g->p.n_sessions; i++)
		if (memcmp(g->sessions[i].p.username, username, 6) == 0)
			return &g->sessions[i];
	return NULL;
}

/* Risk hears of a login after any timeout it has not heard of yet. */
static int
session_tell_risk(struct order_gateway *g, struct gateway_session *s)
{
	struct order_request rq = {.kind = ORDER_REQ_DISCONNECT,
				   .session = (uint16_t)(s - g->sessions)};

	if (s->disconnect_owed) {
		if (request_send(g, &rq) != 0)
			return -1;
		s->disconnect_owed = 0;
	}
	rq.kind = ORDER_REQ_CONNECT;
	return request_send(g, &rq);
}

static void
login(struct order_gateway *g, const struct udp_view *v, const uint8_t *pkt, uint16_t len)
{
	int64_t first = len == LOGIN_LEN ? ascii_number(pkt + 27, 20) : -1;

	if (first < 0) {
		g->counters.drops[ORDER_DROP_BAD_PACKET]++;
		return;
	}
	static const char blank[10] = "          ";
	struct gateway_session *s = session_of_user(g, pkt + 1);
	if (s == NULL || memcmp(s->p.password, pkt + 7, 10) != 0 ||
	    !source_allowed(s, v->src_ip)) {
		login_reject(g, v, 'A');
		return;
	}
	if (memcmp(pkt + 17, blank, 10) != 0 && memcmp(pkt + 17, s->p.name, 10) != 0) {
		login_reject(g, v, 'S'); /* a session this user does not own */
		return;
	}
	struct gateway_session *here = bound_session(g, v);
	if (here != s && (s->bound || here != NULL)) {
		login_reject(g, v, 'S'); /* bound elsewhere, or this address has another */
		return;
	}
	if (!s->bound && session_tell_risk(g, s) != 0) {
		login_reject(g, v, 'S'); /* the path is full: the client tries again */
		return;
	}
	s->udp = reply_to(g, v);
	s->bound = 1;
	u64_hash_get_or_put(&g->by_address, address_key(v->src_ip, v->src_port),
			    (uint32_t)(s - g->sessions));
	s->last_rx = g->now;
	g->counters.logins++;

	/* The client receives next what it asked for, as far as it is kept. */
	uint64_t from = s->next_seq;
	if (first > 0 && (uint64_t)first < s->next_seq)
		from = RTE_MAX((uint64_t)first, stream_first_kept(g, s));
	uint8_t msg[31] = {'A'};
	char seq[21];
	memcpy(msg + 1, s->p.name, 10);
	snprintf(seq, sizeof(seq), "%20llu", (unsigned long long)from);
	memcpy(msg + 11, seq, 20);
	stream_control(g, &s->udp, msg, sizeof(msg));
	stream_resend(g, s, from, s->next_seq - from);
}

static void
logout(struct order_gateway *g, struct gateway_session *s)
{
	stream_marker(g, s, MOLDUDP64_END_OF_SESSION);
	session_unbind(g, s);
	g->counters.logouts++;
}

/* Silent sessions are logged out and their orders cancelled (if their
 * limits say so); idle ones get a heartbeat. */
static void
sessions_check(struct order_gateway *g)
{
	for (uint32_t i = 0; i < g->p.n_sessions; i++) {
		struct gateway_session *s = &g->sessions[i];
		if (s->disconnect_owed) {
			struct order_request rq = {.kind = ORDER_REQ_DISCONNECT,
						   .session = (uint16_t)i};
			s->disconnect_owed = request_send(g, &rq) != 0;
		}
		if (!s->bound)
			continue;
		if (g->now - s->last_rx > g->timeout_tsc) {
			session_unbind(g, s);
			s->disconnect_owed = 1;
			g->counters.timeouts++;
		} else if (g->now - s->last_tx > g->heartbeat_tsc) {
			stream_marker(g, s, 0);
			g->counters.heartbeats_tx++;
		}
	}
}

/* ---- order messages ---- */

static uint32_t
instrument_of(const struct order_gateway *g, const char symbol[8])
{
	uint64_t key;

	memcpy(&key, symbol, 8);
	return u64_hash_get(&g->symbols, key);
}

/* A new UserRefNum must be above every earlier one; a repeat is answered
 * with the next sequence so the client can fetch what it missed. */
static int
fresh_user_ref_num(struct order_gateway *g, struct gateway_session *s, uint32_t n)
{
	if (n > s->last_user_ref_num) {
		s->last_user_ref_num = n;
		return 1;
	}
	uint8_t msg[13] = {'D'};
	uint32_t n_be = rte_cpu_to_be_32(n);
	uint64_t next_be = rte_cpu_to_be_64(s->next_seq);
	memcpy(msg + 1, &n_be, 4);
	memcpy(msg + 5, &next_be, 8);
	g->counters.repeats++;
	stream_control(g, &s->udp, msg, sizeof(msg));
	return 0;
}

static const uint8_t tif_of[256] = {
	['0'] = MATCH_DAY + 1, ['1'] = MATCH_GTC + 1, ['3'] = MATCH_IOC + 1,
	['4'] = MATCH_FOK + 1};
static const uint8_t stp_of[256] = {
	['N'] = MATCH_STP_NONE + 1, ['W'] = MATCH_STP_CANCEL_NEWEST + 1,
	['O'] = MATCH_STP_CANCEL_OLDEST + 1, ['B'] = MATCH_STP_CANCEL_BOTH + 1,
	['D'] = MATCH_STP_DECREMENT + 1};

/* The reject code for an Enter's fields, or 0 (docs/order-entry.md). */
static uint16_t
enter_check(const struct ouch_order_msg *m)
{
	if (m->time_in_force == '5' || m->time_in_force == '6' || m->time_in_force == 'E' ||
	    m->display != 'Y' || m->cross_type != 'N')
		return 5;
	if (!strchr("BSTE", m->side) || m->side == 0 || !tif_of[m->time_in_force] ||
	    !strchr("APRO", m->capacity) || m->capacity == 0 ||
	    (m->intermarket_sweep != 'N' && m->intermarket_sweep != 'Y') ||
	    (m->has_post_only && m->post_only != 'Y' && m->post_only != 'N') ||
	    (m->has_self_trade && !stp_of[m->self_trade]) ||
	    (m->has_min_qty && m->time_in_force != '3'))
		return 1;
	if (m->price == 0 || m->price > INT64_MAX)
		return 3;
	if (m->quantity == 0)
		return 4;
	return 0;
}

static uint32_t
order_slot_take(struct order_gateway *g)
{
	uint32_t slot = g->free_order;

	if (slot != MATCH_NONE) {
		g->free_order = g->orders[slot].next_free;
		g->orders[slot].generation++;
		g->orders[slot].live = 1;
		g->orders[slot].replace_pending = 0; /* the slot's last order may have died mid-replace */
	}
	return slot;
}

static void
enter(struct order_gateway *g, struct gateway_session *s, const struct ouch_order_msg *m,
      struct order_request *rq)
{
	uint32_t instrument = instrument_of(g, m->symbol);
	uint16_t code = instrument == U64_HASH_EMPTY ? 2 : enter_check(m);
	uint32_t slot = code ? MATCH_NONE : order_slot_take(g);

	if (code == 0 && slot == MATCH_NONE) {
		g->counters.orders_full++;
		code = 7;
	}
	if (code != 0) {
		gateway_reject(g, s, m->user_ref_num, code, m->cl_ord_id);
		return;
	}
	struct gateway_order *o = &g->orders[slot];
	uint16_t session = (uint16_t)(s - g->sessions);
	o->user_ref_num = m->user_ref_num;
	o->instrument = instrument;
	o->session = session;
	o->side = m->side;
	o->tif = m->time_in_force;
	o->capacity = m->capacity;
	o->intermarket_sweep = m->intermarket_sweep;
	o->price = m->price;
	memcpy(o->cl_ord_id, m->cl_ord_id, 14);
	u64_hash_get_or_put(&g->by_ref, gateway_ref_key(session, m->user_ref_num), slot);

	int market = m->price == OUCH_MARKET_PRICE;
	rq->kind = ORDER_REQ_NEW;
	rq->instrument = instrument;
	rq->cmd.type = MATCH_CMD_SUBMIT;
	rq->cmd.order = (struct match_order){
		.id = (uint64_t)o->generation << 32 | slot,
		.price = market ? 0 : (int64_t)m->price, .qty = m->quantity,
		.min_qty = m->min_qty, .account = s->p.account, .group = m->group_id,
		.side = m->side == 'B' ? MATCH_BUY : MATCH_SELL,
		.type = market ? MATCH_MARKET : MATCH_LIMIT,
		.tif = (uint8_t)(tif_of[m->time_in_force] - 1),
		.post_only = m->post_only == 'Y',
		.stp = m->has_self_trade ? (uint8_t)(stp_of[m->self_trade] - 1) : MATCH_STP_NONE,
		.stp_by_group = m->has_group_id};
}

static struct gateway_order *
named_order(struct order_gateway *g, struct gateway_session *s, uint32_t user_ref_num,
	    uint64_t *id)
{
	uint32_t slot = u64_hash_get(&g->by_ref,
				     gateway_ref_key((uint16_t)(s - g->sessions), user_ref_num));

	if (slot == U64_HASH_EMPTY)
		return NULL;
	*id = (uint64_t)g->orders[slot].generation << 32 | slot;
	return &g->orders[slot];
}

static void
replace(struct order_gateway *g, struct gateway_session *s, const struct ouch_order_msg *m,
	struct order_request *rq)
{
	uint64_t id;
	struct gateway_order *o = named_order(g, s, m->orig_user_ref_num, &id);
	uint16_t code = 0;

	if (o == NULL)
		code = 8;
	else if (o->replace_pending)
		code = 21; /* one at a time: each answer echoes its own ClOrdID */
	else if (m->display != 'Y')
		code = 5;
	else if (m->time_in_force != o->tif || m->has_min_qty ||
		 (m->intermarket_sweep != 'N' && m->intermarket_sweep != 'Y'))
		code = 1;
	else if (m->price == 0 || m->price == OUCH_MARKET_PRICE || m->price > INT64_MAX)
		code = 3;
	else if (m->quantity == 0)
		code = 4;
	if (code != 0) {
		gateway_reject(g, s, m->user_ref_num, code, m->cl_ord_id);
		return;
	}
	o->replace_pending = 1;
	memcpy(o->replace_cl_ord_id, m->cl_ord_id, 14);
	rq->kind = ORDER_REQ_REPLACE;
	rq->instrument = o->instrument;
	rq->cmd.type = MATCH_CMD_MODIFY;
	rq->cmd.order = (struct match_order){.id = id, .price = (int64_t)m->price,
					     .qty = m->quantity};
}

static void
cancel(struct order_gateway *g, struct gateway_session *s, const struct ouch_order_msg *m,
       struct order_request *rq)
{
	uint64_t id;
	struct gateway_order *o = named_order(g, s, m->user_ref_num, &id);

	if (o == NULL) {
		gateway_reject(g, s, m->user_ref_num, 8, blank_cl_ord_id);
		return;
	}
	rq->kind = ORDER_REQ_CANCEL;
	rq->instrument = o->instrument;
	rq->cmd.type = m->quantity == 0 ? MATCH_CMD_CANCEL : MATCH_CMD_MODIFY;
	rq->cmd.order = (struct match_order){.id = id, .qty = m->quantity};
}

static void
mass_cancel(struct order_gateway *g, struct gateway_session *s, const struct ouch_order_msg *m,
	    struct order_request *rq)
{
	static const char all[8] = "        ";
	uint32_t instrument = UINT32_MAX; /* every book */

	if (memcmp(m->symbol, all, 8) != 0) {
		instrument = instrument_of(g, m->symbol);
		if (instrument == U64_HASH_EMPTY) {
			gateway_reject(g, s, m->user_ref_num, 2, blank_cl_ord_id);
			return;
		}
	}
	rq->kind = ORDER_REQ_MASS_CANCEL;
	rq->instrument = instrument;
	rq->cmd.type = MATCH_CMD_MASS_CANCEL;
	rq->cmd.order.account = s->p.account;
}

/* One order message of a logged-in session, with the time it arrived. */
static void
order_message(struct order_gateway *g, struct gateway_session *s, const uint8_t *msg,
	      uint16_t len, uint64_t rx_tsc)
{
	struct ouch_order_msg m;
	int parsed = ouch_order_parse(msg, len, &m);

	if (parsed == OUCH_UNKNOWN_TYPE || parsed == OUCH_BAD_LENGTH) {
		g->counters.drops[ORDER_DROP_BAD_MESSAGE]++;
		return;
	}
	/* Cancel names an order by its UserRefNum; the others bring a new one. */
	if (m.type != 'X' && !fresh_user_ref_num(g, s, m.user_ref_num))
		return;
	g->counters.messages_by_type[m.type]++;
	if (parsed == OUCH_BAD_APPENDAGE) { /* an option Colo does not have */
		gateway_reject(g, s, m.user_ref_num, 5, m.cl_ord_id);
		return;
	}
	struct order_request rq = {.rx_tsc = rx_tsc, .user_ref_num = m.user_ref_num,
				   .session = (uint16_t)(s - g->sessions), .kind = UINT8_MAX,
				   .cmd.time_ns = order_clock_ns(g->clock, rx_tsc)};
	switch (m.type) {
	case 'O': enter(g, s, &m, &rq); break;
	case 'U': replace(g, s, &m, &rq); break;
	case 'X': cancel(g, s, &m, &rq); break;
	case 'C': mass_cancel(g, s, &m, &rq); break;
	}
	if (rq.kind == UINT8_MAX)
		return; /* answered here */
	if (request_send(g, &rq) != 0) { /* the path is full: refused, not queued */
		if (rq.kind == ORDER_REQ_NEW)
			gateway_order_free(g, (uint32_t)rq.cmd.order.id);
		gateway_reject(g, s, m.user_ref_num, 18, m.cl_ord_id);
	}
}

/* ---- datagrams ---- */

static void
client_packet(struct order_gateway *g, struct gateway_session *s, const struct udp_view *v,
	      const uint8_t *pkt, uint16_t len, uint64_t rx_tsc)
{
	switch (pkt[0]) {
	case 'L':
		login(g, v, pkt, len);
		break;
	case 'U':
		order_message(g, s, pkt + 1, (uint16_t)(len - 1), rx_tsc);
		break;
	case 'R':
		g->counters.heartbeats_rx++;
		break;
	case 'O':
		logout(g, s);
		break;
	case 'Q': {
		if (len != REQUEST_LEN) {
			g->counters.drops[ORDER_DROP_BAD_PACKET]++;
			break;
		}
		uint64_t first;
		memcpy(&first, pkt + 1, 8);
		g->counters.retransmit_requests++;
		stream_resend(g, s, rte_be_to_cpu_64(first), (uint16_t)(pkt[9] << 8 | pkt[10]));
		break;
	}
	default:
		g->counters.drops[ORDER_DROP_BAD_PACKET]++;
	}
}

static void
datagram(struct order_gateway *g, const struct udp_view *v, uint64_t rx_tsc)
{
	struct gateway_session *s = bound_session(g, v);

	if (s == NULL && !any_session_allows(g, v->src_ip)) {
		g->counters.drops[ORDER_DROP_UNKNOWN_SOURCE]++;
		return;
	}
	if (s != NULL)
		s->last_rx = g->now;
	for (uint32_t off = 0; off < v->len;) {
		uint16_t len = off + 2 <= v->len ? (uint16_t)(v->payload[off] << 8 |
							      v->payload[off + 1]) : 0;
		if (len == 0 || off + 2 + len > v->len) {
			g->counters.drops[ORDER_DROP_BAD_PACKET]++;
			return;
		}
		const uint8_t *pkt = v->payload + off + 2;
		off += 2u + len;
		if (s == NULL && pkt[0] != 'L') {
			g->counters.drops[ORDER_DROP_NOT_LOGGED_IN]++;
			return;
		}
		client_packet(g, s, v, pkt, len, rx_tsc);
		if (pkt[0] == 'L' || pkt[0] == 'O') /* a login binds, a logout unbinds */
			s = bound_session(g, v);
	}
}

static void
frame(struct order_gateway *g, const struct rte_mbuf *m, uint64_t rx_tsc)
{
	struct order_gateway_counters *c = &g->counters;
	const uint8_t *bytes = rte_pktmbuf_mtod(m, const uint8_t *);
	struct udp_view v;

	c->rx_packets++;
	c->rx_bytes += m->pkt_len;
	int drop = m->nb_segs > 1 ? COLO_DROP_BAD_LENGTH :
		   udp_frame_parse(bytes, m->data_len, 0, &v, &c->ip_checksum_errors,
				   &c->udp_checksum_errors);
	if (drop == COLO_DROP_NOT_IPV4_UDP) {
		struct rte_mbuf *reply = rte_pktmbuf_alloc(g->p.tx_pool);
		uint16_t len = reply == NULL ? 0 :
			arp_reply_write(rte_pktmbuf_mtod(reply, uint8_t *), bytes, m->data_len,
					g->p.mac, g->p.ip);
		if (len != 0) {
			c->arp_replies++;
			tx_batch_add(&g->tx, reply, len);
			return;
		}
		rte_pktmbuf_free(reply);
	}
	if (drop >= 0) {
		c->frame_drops[drop]++;
		return;
	}
	if (v.dst_ip != g->p.ip || v.dst_port != g->p.udp_port) {
		c->drops[ORDER_DROP_NOT_GATEWAY]++;
		return;
	}
	datagram(g, &v, rx_tsc);
}

static int
gateway_poll(void *arg, uint64_t now)
{
	struct order_gateway *g = arg;
	struct rte_mbuf *pkts[RX_BURST];
	struct order_report reps[ORDER_BURST];

	g->now = now;
	if (!g->started) { /* every session's stream opens with the start of day */
		gateway_system_event(g, 'S', order_clock_ns(g->clock, now));
		g->started = 1;
	}
	/* Answers first, and new orders only while the path has room for them:
	 * a busy path leaves them in the port's queue rather than refuse them. */
	unsigned r = 0, got;
	do { /* each order makes a report or more: take them faster than orders come */
		got = rte_ring_dequeue_burst_elem(g->reports, reps, sizeof(reps[0]), ORDER_BURST,
						  NULL);
		for (unsigned i = 0; i < got; i++)
			gateway_report(g, &reps[i]);
		r += got;
	} while (got == ORDER_BURST && r < REPORTS_PER_POLL);
	/* The answers leave before new orders are read: they must not wait
	 * for a burst of new orders to be taken in. */
	stream_close_all(g);
	if (g->n_answered > 0) {
		uint64_t sent = rte_rdtsc();
		for (unsigned i = 0; i < g->n_answered; i++)
			burst_histogram_add(g->counters.latency_cycles,
					    sent - g->answered_rx_tsc[i]);
		g->n_answered = 0;
	}
	uint16_t n = 0;
	if (rte_ring_free_count(g->requests) >= RX_ROOM)
		n = rte_eth_rx_burst(g->p.port_id, 0, pkts, RX_BURST);
	for (uint16_t i = 0; i < n; i++) /* written by another core: fetch them all first */
		rte_prefetch0(pkts[i]);
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++)
		frame(g, pkts[i], now);
	rte_pktmbuf_free_bulk(pkts, n);
	if (now >= g->next_session_check) {
		sessions_check(g);
		g->next_session_check = now + rte_get_tsc_hz() / 1000000 * SESSION_CHECK_US;
	}
	stream_close_all(g); /* the gateway's own answers: logins, refusals */
	return (int)(n + r);
}

/* Stopping: what is open goes out, and logged-in clients hear the end. */
static void
gateway_finish(void *arg)
{
	struct order_gateway *g = arg;

	g->now = rte_rdtsc();
	for (uint32_t i = 0; i < g->p.n_sessions; i++)
		if (g->sessions[i].bound)
			logout(g, &g->sessions[i]);
	stream_close_all(g);
}

/* ---- life cycle ---- */

static int
tables_init(struct order_gateway *g, const struct order_path_params *p)
{
	size_t history = (size_t)p->history * sizeof(struct response_slot);

	g->sessions = rte_zmalloc("gateway_sessions", p->n_sessions * sizeof(g->sessions[0]), 0);
	g->instruments = rte_malloc("gateway_instruments",
				    p->n_instruments * sizeof(g->instruments[0]), 0);
	g->match_numbers = rte_zmalloc("gateway_matches", p->n_instruments * sizeof(uint64_t), 0);
	g->open_sessions = rte_malloc("gateway_open", p->n_sessions * sizeof(uint16_t), 0);
	g->orders = table_alloc((size_t)p->max_orders * sizeof(g->orders[0]));
	if (g->sessions == NULL || g->instruments == NULL || g->match_numbers == NULL ||
	    g->open_sessions == NULL || g->orders == NULL ||
	    u64_hash_init(&g->symbols, p->n_instruments, 0) != 0 ||
	    u64_hash_init(&g->by_address, p->n_sessions, 0) != 0 ||
	    u64_hash_init(&g->by_ref, p->max_orders, 1) != 0)
		return -1;
	for (uint32_t i = 0; i < p->n_sessions; i++) {
		g->sessions[i].p = p->sessions[i];
		g->sessions[i].next_seq = 1;
		g->sessions[i].history = table_alloc(history);
		if (g->sessions[i].history == NULL)
			return -1;
	}
	for (uint32_t i = 0; i < p->n_instruments; i++) {
		uint64_t key;
		g->instruments[i] = p->instruments[i];
		memcpy(&key, p->instruments[i].symbol, 8);
		u64_hash_get_or_put(&g->symbols, key, i);
	}
	for (uint32_t i = 0; i < p->max_orders; i++)
		g->orders[i].next_free = i + 1 < p->max_orders ? i + 1 : MATCH_NONE;
	return 0;
}

struct order_gateway *
order_gateway_create(const struct order_path_params *p, const struct order_clock *clock,
		     struct rte_ring *requests, struct rte_ring *reports)
{
	struct order_gateway *g = rte_zmalloc("order_gateway", sizeof(*g), RTE_CACHE_LINE_SIZE);
	uint32_t room = rte_pktmbuf_data_room_size(p->tx_pool) - RTE_PKTMBUF_HEADROOM;

	if (g == NULL) {
		fprintf(stderr, "gateway: cannot allocate the stage\n");
		return NULL;
	}
	g->p = *p;
	g->clock = clock;
	g->requests = requests;
	g->reports = reports;
	if ((uint32_t)p->mtu + RTE_ETHER_HDR_LEN > room || p->n_sessions == 0 ||
	    p->n_sessions > UINT16_MAX || p->n_instruments == 0 ||
	    p->history == 0 || (p->history & (p->history - 1)) != 0) {
		fprintf(stderr, "gateway: MTU %u (mbufs hold %u), %u sessions (1..65535), "
			"%u instruments (1 or more), history %u (a power of two)\n",
			p->mtu, room - RTE_ETHER_HDR_LEN, p->n_sessions, p->n_instruments,
			p->history);
		rte_free(g);
		return NULL;
	}
	if (tables_init(g, p) != 0) {
		fprintf(stderr, "gateway: cannot allocate %u sessions with %u responses kept "
			"each, and %u orders\n", p->n_sessions, p->history, p->max_orders);
		order_gateway_destroy(g);
		return NULL;
	}
	g->history_mask = p->history - 1;
	g->max_payload = (uint16_t)(p->mtu - 20 - 8);
	tx_batch_init(&g->tx, p->port_id, &g->counters.tx_packets, &g->counters.tx_bytes,
		      &g->counters.tx_dropped);
	g->heartbeat_tsc = rte_get_tsc_hz() / 1000 * p->heartbeat_ms;
	g->timeout_tsc = rte_get_tsc_hz() / 1000 * p->timeout_ms;
	return g;
}

void
order_gateway_destroy(struct order_gateway *g)
{
	if (g == NULL)
		return;
	for (uint32_t i = 0; g->sessions != NULL && i < g->p.n_sessions; i++) {
		if (g->sessions[i].open != NULL)
			rte_pktmbuf_free(g->sessions[i].open);
		table_free(g->sessions[i].history,
			   (size_t)g->p.history * sizeof(struct response_slot));
	}
	table_free(g->orders, (size_t)g->p.max_orders * sizeof(g->orders[0]));
	u64_hash_free(&g->symbols);
	u64_hash_free(&g->by_address);
	u64_hash_free(&g->by_ref);
	rte_free(g->sessions);
	rte_free(g->instruments);
	rte_free(g->match_numbers);
	rte_free(g->open_sessions);
	rte_free(g);
}

int
order_gateway_place(struct order_gateway *g, unsigned lcore)
{
	return lcore_runner_place(lcore, "gateway", gateway_poll, gateway_finish, g);
}

const struct order_gateway_counters *
order_gateway_counters(const struct order_gateway *g)
{
	return &g->counters;
}
