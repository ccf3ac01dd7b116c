/* Each session's response stream: responses get the session's next
 * sequence, are kept for retransmission and packed into MoldUDP64 packets
 * to the bound client, closed at the end of each gateway pass. Login
 * answers and duplicate notices go in sequence-0 packets. */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "moldudp64_rx.h"
#include "order_gateway.h"

#define BLOCK_HEADER 2
#define RESEND_PACKETS_MAX 16 /* per request: a client asks again for the rest */

static uint8_t *
payload_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *) + UDP_FRAME_HEADERS;
}

/* MoldUDP64 header, then the Ethernet/IPv4/UDP headers; queued to send. */
static void
packet_send(struct order_gateway *g, struct rte_mbuf *m, const struct udp_frame_template *to,
	    const char session[10], uint64_t seq, uint16_t count, uint16_t payload_len)
{
	uint8_t *h = payload_of(m);
	uint64_t seq_be = rte_cpu_to_be_64(seq);

	memcpy(h, session, 10);
	memcpy(h + 10, &seq_be, 8);
	h[18] = (uint8_t)(count >> 8);
	h[19] = (uint8_t)count;
	tx_batch_add(&g->tx, m, udp_frame_write(rte_pktmbuf_mtod(m, uint8_t *), to, payload_len));
}

static void
open_close(struct order_gateway *g, struct gateway_session *s)
{
	packet_send(g, s->open, &s->udp, s->p.name, s->open_seq, s->open_count, s->open_len);
	s->open = NULL;
	s->last_tx = g->now;
}

void
stream_close_all(struct order_gateway *g)
{
	for (uint16_t i = 0; i < g->n_open; i++) {
		struct gateway_session *s = &g->sessions[g->open_sessions[i]];
		if (s->open != NULL)
			open_close(g, s);
		s->listed = 0;
	}
	g->n_open = 0;
	tx_batch_flush(&g->tx);
}

/* Appends one block to the session's open packet, opening one as needed. */
static void
block_add(struct order_gateway *g, struct gateway_session *s, const struct response_slot *r,
	  uint64_t seq)
{
	if (s->open != NULL && s->open_len + BLOCK_HEADER + r->len > g->max_payload)
		open_close(g, s);
	if (s->open == NULL) {
		s->open = rte_pktmbuf_alloc(g->p.tx_pool);
		if (s->open == NULL) { /* the client sees a gap and asks again */
			g->counters.tx_dropped++;
			return;
		}
		s->open_seq = seq;
		s->open_count = 0;
		s->open_len = MOLDUDP64_HEADER;
		if (!s->listed) {
			g->open_sessions[g->n_open++] = (uint16_t)(s - g->sessions);
			s->listed = 1;
		}
	}
	uint8_t *b = payload_of(s->open) + s->open_len;
	b[0] = 0;
	b[1] = r->len;
	memcpy(b + BLOCK_HEADER, r->bytes, r->len);
	s->open_len += BLOCK_HEADER + r->len;
	s->open_count++;
}

void
stream_respond(struct order_gateway *g, struct gateway_session *s, const struct ouch_response *r)
{
	struct response_slot *slot = &s->history[s->next_seq & g->history_mask];
	int len = ouch_response_write(slot->bytes, RESPONSE_MAX, r);

	if (len < 0)
		return; /* not a response type: a bug, never the client's doing */
	slot->len = (uint8_t)len;
	g->counters.responses_by_type[r->type]++;
	if (s->bound)
		block_add(g, s, slot, s->next_seq);
	s->next_seq++;
}

void
stream_control(struct order_gateway *g, const struct udp_frame_template *to, const uint8_t *msg,
	       uint16_t len)
{
	static const char no_session[10] = "          ";
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->p.tx_pool);

	if (m == NULL) {
		g->counters.tx_dropped++;
		return;
	}
	uint8_t *b = payload_of(m) + MOLDUDP64_HEADER;
	b[0] = 0;
	b[1] = (uint8_t)len;
	memcpy(b + BLOCK_HEADER, msg, len);
	packet_send(g, m, to, no_session, 0, 1, MOLDUDP64_HEADER + BLOCK_HEADER + len);
}

void
stream_marker(struct order_gateway *g, struct gateway_session *s, uint16_t count)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->p.tx_pool);

	if (s->open != NULL)
		open_close(g, s); /* the marker's sequence comes after them */
	if (m == NULL) {
		g->counters.tx_dropped++;
		return;
	}
	packet_send(g, m, &s->udp, s->p.name, s->next_seq, count, MOLDUDP64_HEADER);
	s->last_tx = g->now;
}

uint64_t
stream_first_kept(const struct order_gateway *g, const struct gateway_session *s)
{
	return s->next_seq > g->history_mask ? s->next_seq - g->history_mask : 1;
}

void
stream_resend(struct order_gateway *g, struct gateway_session *s, uint64_t first, uint64_t count)
{
	uint64_t kept_from = stream_first_kept(g, s);
	uint64_t end = first + count < s->next_seq ? first + count : s->next_seq;

	if (first < kept_from)
		first = kept_from; /* older responses are gone: the client sees that */
	if (s->open != NULL)
		open_close(g, s);
	unsigned packets = 0;
	for (uint64_t seq = first; seq < end; seq++) {
		const struct response_slot *r = &s->history[seq & g->history_mask];
		if ((s->open == NULL || s->open_len + BLOCK_HEADER + r->len > g->max_payload) &&
		    ++packets > RESEND_PACKETS_MAX)
			break;
		block_add(g, s, r, seq);
		g->counters.retransmitted++;
	}
	if (s->open != NULL)
		open_close(g, s);
}
