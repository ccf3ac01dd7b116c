/* Frames queued for one port's tx queue 0 and sent in bursts; the stage
 * that owns the queue is its only writer. */
#ifndef TX_BATCH_H
#define TX_BATCH_H

#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define TX_BATCH 64

struct tx_batch {
	uint16_t port, n;
	uint64_t *packets, *bytes, *dropped; /* the owner's counters */
	struct rte_mbuf *m[TX_BATCH];
};

static inline void
tx_batch_init(struct tx_batch *b, uint16_t port, uint64_t *packets, uint64_t *bytes,
	      uint64_t *dropped)
{
	*b = (struct tx_batch){.port = port, .packets = packets, .bytes = bytes,
			       .dropped = dropped};
}

static inline void
tx_batch_flush(struct tx_batch *b)
{
	if (b->n == 0)
		return;
	/* Counted before sending: a sent mbuf belongs to the driver. */
	uint64_t bytes = 0;
	for (uint16_t i = 0; i < b->n; i++)
		bytes += b->m[i]->pkt_len;
	uint16_t sent = rte_eth_tx_burst(b->port, 0, b->m, b->n);
	for (uint16_t i = sent; i < b->n; i++)
		bytes -= b->m[i]->pkt_len;
	*b->bytes += bytes;
	*b->packets += sent;
	if (sent < b->n) {
		*b->dropped += b->n - sent;
		rte_pktmbuf_free_bulk(&b->m[sent], b->n - sent);
	}
	b->n = 0;
}

static inline void
tx_batch_add(struct tx_batch *b, struct rte_mbuf *m, uint16_t len)
{
	m->data_len = len;
	m->pkt_len = len;
	b->m[b->n++] = m;
	if (b->n == TX_BATCH)
		tx_batch_flush(b);
}

#endif
