/* The market-data stage: one lcore polls the feed ports, arbitrates lines A
 * and B, normalizes ITCH into ticks and sends them as MoldUDP64 multicast. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "burst_histogram.h"
#include "feed_hold.h"
#include "itch_normalizer.h"
#include "lcore_runner.h"
#include "md_telemetry.h"
#include "moldudp64_rx.h"
#include "order_path.h"
#include "table_alloc.h"
#include "tick_framer.h"
#include "tx_batch.h"

#define RX_BURST 32
#define PREFETCH_AHEAD 3
#define IGMP_INTERVAL_S 10 /* well inside a querier's 260 s membership timeout */

struct md_stage {
	struct md_counters counters; /* first: cache aligned by rte_zmalloc */
	struct md_stage_params p;
	struct itch_normalizer normalizer;
	struct moldudp64_rx feed;
	struct feed_hold hold;     /* packets ahead of a hole line B may fill */
	uint64_t hold_tsc;         /* how long a hole may wait for the other line */
	struct tick_framer framer;
	struct colo_tick *history; /* the last retransmit_ticks ticks, by sequence */
	uint64_t history_mask;
	struct rte_mbuf *open_mbuf;
	struct tx_batch tx;
	uint16_t rx_ports[3]; /* lines A and B, and the output for re-requests */
	unsigned n_rx_ports;
	uint8_t line_mac[2][6];    /* each line's port: its IGMP reports' source */
	uint64_t heartbeat_tsc, igmp_tsc, last_igmp;
	uint64_t last_stream_tx;   /* TSC of the last tick packet or control: not unicast */
	uint64_t end_wait_since;   /* TSC the feed's end began to wait for a hole */
	struct rte_ring *order_ticks; /* from the matching stage, or NULL */
	const uint32_t *order_day_ended; /* the matching stage's */
	struct rte_ring *order_halts; /* to the risk stage, or NULL */
	uint32_t *halt_symbols;       /* the order path's, by instrument */
	unsigned n_halt_symbols;
};

static void
rx_port_add(struct md_stage *st, uint16_t port)
{
	for (unsigned i = 0; i < st->n_rx_ports; i++)
		if (st->rx_ports[i] == port)
			return;
	st->rx_ports[st->n_rx_ports++] = port;
}

struct md_stage *
md_stage_create(const struct md_stage_params *p)
{
	struct md_stage *st = rte_zmalloc("md_stage", sizeof(*st), RTE_CACHE_LINE_SIZE);

	if (st == NULL) {
		fprintf(stderr, "md_stage: cannot allocate the stage\n");
		return NULL;
	}
	st->p = *p;
	if (p->n_lines > 2 || p->retransmit_ticks == 0 ||
	    (p->retransmit_ticks & (p->retransmit_ticks - 1)) != 0) {
		fprintf(stderr, "md_stage: %u feed lines (at most 2), %u ticks kept for re-requests "
			"(a power of two)\n", p->n_lines, p->retransmit_ticks);
		rte_free(st);
		return NULL;
	}
	/* A full tick packet must fit one mbuf: frames are never chained. */
	uint32_t room = rte_pktmbuf_data_room_size(p->tx_pool) - RTE_PKTMBUF_HEADROOM;
	if ((uint32_t)p->mtu + RTE_ETHER_HDR_LEN > room) {
		fprintf(stderr, "md_stage: MTU %u needs mbufs of %u data bytes; the pool's have %u "
			"(raise mempool.data_room)\n", p->mtu, p->mtu + RTE_ETHER_HDR_LEN, room);
		rte_free(st);
		return NULL;
	}
	if (itch_normalizer_init(&st->normalizer, &p->normalizer, &st->counters) != 0) {
		fprintf(stderr, "md_stage: cannot allocate the book for %u orders, %u symbols\n",
			p->normalizer.max_orders, p->normalizer.max_symbols);
		rte_free(st);
		return NULL;
	}
	moldudp64_rx_init(&st->feed, p->feed_session_fixed ? p->feed_session : NULL, p->n_lines);

	struct udp_frame_template udp = {
		.src_ip = p->out_src_ip, .dst_ip = p->out_group,
		.src_port = p->out_src_port, .dst_port = p->out_dst_port, .ttl = p->ttl,
	};
	memcpy(udp.src_mac, p->out_src_mac, 6);
	udp_frame_multicast_mac(p->out_group, udp.dst_mac);
	tick_framer_init(&st->framer, &udp, p->out_session, p->mtu);
	st->history_mask = p->retransmit_ticks - 1;
	st->history = table_alloc((size_t)p->retransmit_ticks * sizeof(struct colo_tick));
	if (st->history == NULL) {
		fprintf(stderr, "md_stage: cannot allocate %u ticks for re-requests\n",
			p->retransmit_ticks);
		md_stage_destroy(st);
		return NULL;
	}

	for (unsigned i = 0; i < p->n_lines; i++)
		rx_port_add(st, p->lines[i].port_id);
	if (p->rerequest_port != 0)
		rx_port_add(st, p->out_port_id);
	for (unsigned i = 0; i < p->n_lines; i++) {
		struct rte_ether_addr mac;
		if (rte_eth_macaddr_get(p->lines[i].port_id, &mac) == 0)
			memcpy(st->line_mac[i], mac.addr_bytes, 6);
	}
	tx_batch_init(&st->tx, p->out_port_id, &st->counters.tx_packets, &st->counters.tx_bytes,
		      &st->counters.tx_dropped);
	st->heartbeat_tsc = rte_get_tsc_hz(); /* at least one heartbeat a second */
	st->hold_tsc = rte_get_tsc_hz() / 1000000 * p->arbitration_wait_us;
	st->igmp_tsc = rte_get_tsc_hz() * IGMP_INTERVAL_S;
	md_telemetry_register(&st->counters);
	return st;
}

int
md_stage_set_symbol_id(struct md_stage *st, const char stock[8], uint32_t id)
{
	return itch_normalizer_set_symbol_id(&st->normalizer, stock, id);
}

const struct md_counters *
md_stage_counters(const struct md_stage *st)
{
	return &st->counters;
}

/* Closes the open tick packet, if any, and queues it. */
static void
ticks_close(struct md_stage *st)
{
	if (st->open_mbuf == NULL)
		return;
	uint16_t len = tick_framer_close(&st->framer);
	tx_batch_add(&st->tx, st->open_mbuf, len);
	st->open_mbuf = NULL;
	st->last_stream_tx = rte_rdtsc();
}

/* The feed halted or resumed one of the order path's instruments. */
static void
halt_forward(struct md_stage *st, const struct colo_tick *t)
{
	for (unsigned i = 0; i < st->n_halt_symbols; i++) {
		if (st->halt_symbols[i] != t->symbol_id)
			continue;
		struct order_halt h = {.instrument = i, .halted = t->side != 'T'};
		if (rte_ring_enqueue_elem(st->order_halts, &h, sizeof(h)) != 0)
			st->counters.tx_dropped++; /* risk stopped taking them */
	}
}

static void
ticks_send(struct md_stage *st, const struct colo_tick *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (t[i].type == 'H' && st->order_halts != NULL)
			halt_forward(st, &t[i]);
		st->history[st->framer.next_seq & st->history_mask] = t[i];
		if (st->open_mbuf == NULL) {
			st->open_mbuf = rte_pktmbuf_alloc(st->p.tx_pool);
			if (st->open_mbuf == NULL) {
				/* The sequence still advances: subscribers see a gap
				 * and re-request it from the history. */
				st->counters.tx_dropped++;
				st->framer.next_seq++;
				continue;
			}
			tick_framer_open(&st->framer, rte_pktmbuf_mtod(st->open_mbuf, uint8_t *));
		}
		tick_framer_add(&st->framer, &t[i]);
		st->counters.tx_ticks++;
		if (tick_framer_full(&st->framer))
			ticks_close(st);
	}
}

static void
control_send(struct md_stage *st, uint16_t count)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->p.tx_pool);

	if (m == NULL) {
		st->counters.tx_dropped++;
		return;
	}
	tx_batch_add(&st->tx, m,
		     tick_framer_control(&st->framer, rte_pktmbuf_mtod(m, uint8_t *), count));
	st->last_stream_tx = rte_rdtsc();
}

static int
line_of(const struct md_stage *st, uint16_t port, const struct udp_view *v)
{
	/* By port too: lines A and B often carry the same group on two networks. */
	for (unsigned i = 0; i < st->p.n_lines; i++) {
		const struct md_line_params *l = &st->p.lines[i];
		if (l->port_id == port && (l->group == 0 || v->dst_ip == l->group) &&
		    (l->udp_port == 0 || v->dst_port == l->udp_port))
			return (int)i;
	}
	return -1;
}

/* ARP for the output address, so hosts can unicast re-requests to it;
 * returns whether the frame was such a request. */
static int
arp_answer(struct md_stage *st, const struct rte_mbuf *m)
{
	struct rte_mbuf *reply = rte_pktmbuf_alloc(st->p.tx_pool);

	if (reply == NULL)
		return 0;
	uint16_t len = arp_reply_write(rte_pktmbuf_mtod(reply, uint8_t *),
				       rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				       st->p.out_src_mac, st->p.out_src_ip);
	if (len == 0) {
		rte_pktmbuf_free(reply);
		return 0;
	}
	st->counters.arp_replies++;
	tx_batch_add(&st->tx, reply, len);
	return 1;
}

/* A MoldUDP64 request (session, first sequence, count) answered by unicast
 * with as many of those ticks as one packet holds, from the history. */
static void
rerequest_answer(struct md_stage *st, const struct udp_view *v)
{
	struct md_counters *c = &st->counters;
	uint64_t next = st->framer.next_seq, kept = st->history_mask + 1;

	if (v->len != MOLDUDP64_HEADER || memcmp(v->payload, st->p.out_session, 10) != 0) {
		c->rerequests_refused++;
		return;
	}
	uint64_t seq;
	memcpy(&seq, v->payload + 10, 8);
	seq = rte_be_to_cpu_64(seq);
	uint64_t count = (uint16_t)(v->payload[18] << 8 | v->payload[19]);
	if (seq == 0 || seq >= next || next - seq > kept || count == 0) {
		c->rerequests_refused++;
		return;
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->p.tx_pool);
	if (m == NULL) {
		c->tx_dropped++;
		return;
	}
	struct tick_framer reply = st->framer;
	reply.udp.dst_ip = v->src_ip;
	reply.udp.dst_port = v->src_port;
	reply.udp.src_port = st->p.rerequest_port;
	memcpy(reply.udp.dst_mac, v->src_mac, 6);
	reply.next_seq = seq;
	tick_framer_open(&reply, rte_pktmbuf_mtod(m, uint8_t *));
	if (count > next - seq)
		count = next - seq;
	for (uint64_t i = 0; i < count && !tick_framer_full(&reply); i++)
		tick_framer_add(&reply, &st->history[(seq + i) & st->history_mask]);
	c->rerequests++;
	c->rerequest_ticks += reply.count;
	tx_batch_add(&st->tx, m, tick_framer_close(&reply));
}

/* Takes a checked packet into the arbitrated stream and applies its new
 * messages. */
static void
feed_apply(struct md_stage *st, const struct moldudp64_packet *pkt, const uint8_t *payload)
{
	struct md_counters *c = &st->counters;
	uint16_t skip;
	int drop = moldudp64_rx_sequence(&st->feed, pkt, &skip, c);

	if (drop >= 0) {
		c->drops[drop]++;
		return;
	}
	c->feed_packets++;
	if (drop == MOLDUDP64_NOTHING_NEW)
		return;
	const uint8_t *block = payload + MOLDUDP64_HEADER;
	for (uint16_t i = 0; i < pkt->count; i++) {
		uint16_t len = (uint16_t)(block[0] << 8 | block[1]);
		if (i >= skip) {
			struct colo_tick ticks[ITCH_MAX_TICKS_PER_MSG];
			unsigned n = itch_normalizer_apply(&st->normalizer, block + 2, len, ticks);
			c->messages++;
			ticks_send(st, ticks, n);
		}
		block += 2 + len;
	}
}

/* Applies held packets whose turn has come. The hole before the first is
 * given up (a gap) when every line has passed it, when it has waited
 * arbitration_wait_us, or when give_up. */
static void
holes_release(struct md_stage *st, int give_up)
{
	while (st->hold.n > 0) {
		const struct feed_held *first = &st->hold.held[0];
		if (!give_up && moldudp64_rx_hole_open(&st->feed, &first->pkt) &&
		    rte_rdtsc() - st->hold.since < st->hold_tsc)
			return;
		give_up = 0;
		struct feed_held h = feed_hold_pop(&st->hold);
		feed_apply(st, &h.pkt, h.payload);
		rte_pktmbuf_free(h.owner);
		st->hold.since = rte_rdtsc(); /* the next hole waits afresh */
	}
}

static void
frame_handle(struct md_stage *st, uint16_t port, struct rte_mbuf *m)
{
	struct md_counters *c = &st->counters;
	struct udp_view v;
	int line, drop;

	c->rx_packets++;
	c->rx_bytes += m->pkt_len;
	if (m->nb_segs > 1) {
		c->drops[COLO_DROP_BAD_LENGTH]++;
		return;
	}
	drop = udp_frame_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
			       st->p.drop_bad_checksum, &v, &c->ip_checksum_errors,
			       &c->udp_checksum_errors);
	if (drop == COLO_DROP_NOT_IPV4_UDP && port == st->p.out_port_id && st->p.out_src_ip &&
	    arp_answer(st, m))
		return;
	if (drop >= 0) {
		c->drops[drop]++;
		return;
	}
	if (st->p.rerequest_port != 0 && v.dst_ip == st->p.out_src_ip &&
	    v.dst_port == st->p.rerequest_port) {
		rerequest_answer(st, &v);
		return;
	}
	line = line_of(st, port, &v);
	if (line < 0) {
		c->drops[COLO_DROP_NOT_SUBSCRIBED]++;
		return;
	}
	struct moldudp64_packet pkt;
	drop = moldudp64_rx_check(&st->feed, (unsigned)line, v.payload, v.len, v.checksum_bad,
				  &pkt, c);
	if (drop >= 0) {
		c->drops[drop]++;
		return;
	}
	/* Ahead of the stream: wait while the other line may fill the hole, and
	 * behind anything already waiting, to keep sequence order. */
	while (pkt.count > 0 && pkt.seq > st->feed.next_seq &&
	       (st->hold.n > 0 || moldudp64_rx_hole_open(&st->feed, &pkt))) {
		struct feed_held h = {.owner = m, .payload = v.payload, .len = v.len, .pkt = pkt};
		switch (feed_hold_push(&st->hold, &h, rte_rdtsc())) {
		case FEED_HELD:
			rte_mbuf_refcnt_update(m, 1); /* outlives the burst */
			return;
		case FEED_ALREADY_HELD:
			c->drops[COLO_DROP_DUPLICATE]++;
			return;
		case FEED_HOLD_FULL: /* no room to wait: the first hole is a gap, then again */
			holes_release(st, 1);
			break;
		}
	}
	/* A heartbeat or end ahead of the stream may show every line past a
	 * hole: what is held before it goes first, or it would jump them. */
	if (pkt.count == 0)
		holes_release(st, 0);
	feed_apply(st, &pkt, v.payload);
	holes_release(st, 0);
}

/* Joins (or leaves) each line's group from the line's own port. */
static void
igmp_send(struct md_stage *st, int leave)
{
	for (unsigned i = 0; i < st->p.n_lines; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(st->p.tx_pool);
		if (m == NULL)
			return;
		uint16_t len = igmp_write(rte_pktmbuf_mtod(m, uint8_t *), st->line_mac[i],
					  st->p.lines[i].ip, st->p.lines[i].group, leave);
		m->data_len = m->pkt_len = len;
		if (rte_eth_tx_burst(st->p.lines[i].port_id, 0, &m, 1) != 1)
			rte_pktmbuf_free(m);
		else if (leave)
			st->counters.igmp_leaves++;
		else
			st->counters.igmp_reports++;
	}
}

static void
end_of_session_send(struct md_stage *st)
{
	ticks_close(st);
	control_send(st, MOLDUDP64_END_OF_SESSION);
	tx_batch_flush(&st->tx);
	st->counters.tx_end_of_session = 1;
}

/* The stream carries the order path's books too: it ends once their day
 * has ended and its last ticks are out, not with the feed alone. */
static int
order_day_over(const struct md_stage *st)
{
	return st->order_ticks == NULL ||
	       (__atomic_load_n(st->order_day_ended, __ATOMIC_ACQUIRE) &&
		rte_ring_empty(st->order_ticks));
}

/* Whether the feed has ended with every message before its end applied or
 * given up. An end that came ahead of a hole waits, as a held packet does,
 * for another line to fill it (unless give_up): our own end must not go
 * out before ticks that line may still bring. */
static int
feed_complete(struct md_stage *st, uint64_t now, int give_up)
{
	struct moldudp64_rx *rx = &st->feed;

	if (!rx->ended || st->hold.n > 0)
		return 0;
	if (rx->next_seq >= rx->end_seq)
		return 1;
	if (st->end_wait_since == 0)
		st->end_wait_since = now;
	if (!give_up && now - st->end_wait_since < st->hold_tsc)
		return 0;
	moldudp64_rx_give_up(rx, rx->end_seq, &st->counters);
	return 1;
}

/* Work done between bursts: what waited for a hole, heartbeats, IGMP
 * refresh, end of session. */
static void
idle_work(struct md_stage *st, uint64_t now)
{
	holes_release(st, 0);
	ticks_close(st); /* what was released goes out before any heartbeat */
	tx_batch_flush(&st->tx);
	if (!st->counters.tx_end_of_session && feed_complete(st, now, 0) && order_day_over(st))
		end_of_session_send(st);
	if (!st->counters.tx_end_of_session && now - st->last_stream_tx >= st->heartbeat_tsc) {
		control_send(st, 0);
		st->counters.tx_heartbeats++;
		tx_batch_flush(&st->tx);
	}
	if (st->p.send_igmp && now - st->last_igmp >= st->igmp_tsc) {
		igmp_send(st, 0);
		st->last_igmp = now;
	}
}

/* Frames received on port, handled as one burst. */
static void
burst_handle(struct md_stage *st, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t start = rte_rdtsc();

	/* Fetch the mbufs, then frame headers a few frames ahead (as l3fwd
	 * does): a ring or a NIC on another core leaves both in that core's
	 * cache. */
	for (uint16_t j = 0; j < n; j++)
		rte_prefetch0(pkts[j]);
	for (uint16_t j = 0; j < n && j < PREFETCH_AHEAD; j++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[j], void *));
	for (uint16_t j = 0; j < n; j++) {
		if (j + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[j + PREFETCH_AHEAD], void *));
		frame_handle(st, port, pkts[j]);
	}
	rte_pktmbuf_free_bulk(pkts, n);
	/* Ticks never wait for more input. */
	ticks_close(st);
	tx_batch_flush(&st->tx);
	burst_histogram_add(st->counters.burst_cycles, rte_rdtsc() - start);
	st->counters.bursts++;
}

/* Trades and quotes of the appliance's own books, from the matching stage. */
static int
order_ticks_send(struct md_stage *st)
{
	struct order_tick burst[RX_BURST];
	unsigned n = rte_ring_dequeue_burst_elem(st->order_ticks, burst, sizeof(burst[0]),
						 RX_BURST, NULL);

	for (unsigned i = 0; i < n; i++)
		ticks_send(st, &burst[i].tick, 1);
	ticks_close(st);
	tx_batch_flush(&st->tx);
	return (int)n;
}

static int
md_stage_poll(void *arg, uint64_t now)
{
	struct md_stage *st = arg;
	struct rte_mbuf *pkts[RX_BURST];
	int work = 0;

	if (st->last_stream_tx == 0) { /* the first poll */
		st->last_stream_tx = now;
		st->last_igmp = now - st->igmp_tsc; /* join at once */
	}
	for (unsigned i = 0; i < st->n_rx_ports; i++) {
		uint16_t n = rte_eth_rx_burst(st->rx_ports[i], 0, pkts, RX_BURST);
		if (n > 0)
			burst_handle(st, st->rx_ports[i], pkts, n);
		work += n;
	}
	if (st->order_ticks != NULL && !st->counters.tx_end_of_session)
		work += order_ticks_send(st);
	if (st->p.stop_after_rx && st->counters.rx_packets >= st->p.stop_after_rx)
		return -1;
	idle_work(st, rte_rdtsc()); /* not now: this pass may have sent since */
	return work;
}

/* Stopping: what is held goes out, holes are gaps, then end of session. */
static void
md_stage_finish(void *arg)
{
	struct md_stage *st = arg;

	while (st->hold.n > 0)
		holes_release(st, 1);
	feed_complete(st, rte_rdtsc(), 1); /* a hole before the feed's end is a gap */
	ticks_close(st);
	tx_batch_flush(&st->tx);
	if (!st->counters.tx_end_of_session)
		end_of_session_send(st);
	if (st->p.send_igmp) /* or the switch floods the feed to us until its query times out */
		igmp_send(st, 1);
}

int
md_stage_place(struct md_stage *st, unsigned lcore)
{
	return lcore_runner_place(lcore, "md", md_stage_poll, md_stage_finish, st);
}

void
md_stage_set_order_ticks(struct md_stage *st, struct rte_ring *ticks, const uint32_t *day_ended)
{
	st->order_ticks = ticks;
	st->order_day_ended = day_ended;
}

int
md_stage_set_order_halts(struct md_stage *st, struct rte_ring *halts, const uint32_t *symbol_ids,
			 unsigned n)
{
	rte_free(st->halt_symbols);
	/* + 1: rte_malloc refuses 0 bytes */
	st->halt_symbols = rte_malloc("md_halt_symbols", n * sizeof(symbol_ids[0]) + 1, 0);
	if (st->halt_symbols == NULL) {
		fprintf(stderr, "md_stage: no memory for %u order-path instruments\n", n);
		return -1;
	}
	memcpy(st->halt_symbols, symbol_ids, n * sizeof(symbol_ids[0]));
	st->n_halt_symbols = n;
	st->order_halts = halts;
	return 0;
}

void
md_stage_destroy(struct md_stage *st)
{
	if (st == NULL)
		return;
	md_telemetry_register(NULL);
	if (st->open_mbuf != NULL)
		rte_pktmbuf_free(st->open_mbuf);
	itch_normalizer_free(&st->normalizer);
	rte_free(st->halt_symbols);
	table_free(st->history, (size_t)(st->history_mask + 1) * sizeof(struct colo_tick));
	rte_free(st);
}
