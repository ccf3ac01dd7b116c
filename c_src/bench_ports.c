/* Benchmark tools: a loopback ring port to preload with frames, and bare
 * rx -> tx forwarding, the ceiling the md stage is measured against on the
 * same virtual devices in the same run. */
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "colo.h"
#include "eal_ports.h"
#include "matching_book.h"

#define BURST 32

int
colo_ring_port_create(const char *name, unsigned size, struct rte_mempool *mp)
{
	struct colo_port_info info;

	struct rte_ring *r = rte_ring_create(name, size, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r == NULL) {
		fprintf(stderr, "ring %s of %u: %s\n", name, size, rte_strerror(rte_errno));
		return -1;
	}
	int port = rte_eth_from_ring(r);
	if (port < 0) {
		fprintf(stderr, "port on ring %s: %s\n", name, rte_strerror(rte_errno));
		return -1;
	}
	return port_start((uint16_t)port, name, mp, 1024, 1024, 0, &info) == 0 ? port : -1;
}

unsigned
colo_frames_send(uint16_t port, struct rte_mempool *mp, const uint8_t *frames,
		 const uint16_t *lens, unsigned n)
{
	struct rte_mbuf *burst[BURST];
	unsigned sent = 0;

	while (sent < n) {
		unsigned count = n - sent < BURST ? n - sent : BURST;
		if (rte_pktmbuf_alloc_bulk(mp, burst, count) != 0)
			continue; /* the consumer frees them as it goes */
		for (unsigned i = 0; i < count; i++) {
			uint16_t len = lens[sent + i];
			memcpy(rte_pktmbuf_mtod(burst[i], void *), frames, len);
			burst[i]->data_len = burst[i]->pkt_len = len;
			frames += len;
		}
		/* Wait for room rather than drop: the ring is the only consumer's input. */
		for (unsigned done = 0; done < count;)
			done += rte_eth_tx_burst(port, 0, burst + done, (uint16_t)(count - done));
		sent += count;
	}
	return sent;
}

static struct {
	uint16_t rx, tx;
	uint64_t n;
} forward;

static int
forward_main(void *arg)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t done = 0;

	(void)arg;
	while (done < forward.n) {
		uint16_t n = rte_eth_rx_burst(forward.rx, 0, pkts, BURST);
		uint16_t sent = rte_eth_tx_burst(forward.tx, 0, pkts, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
		done += n;
	}
	return 0;
}

int
colo_forward_launch(unsigned lcore, uint16_t rx_port, uint16_t tx_port, uint64_t n)
{
	forward.rx = rx_port;
	forward.tx = tx_port;
	forward.n = n;
	return rte_eal_remote_launch(forward_main, NULL, lcore);
}

int
colo_lcore_wait(unsigned lcore)
{
	return rte_eal_wait_lcore(lcore);
}

struct rte_ring *
colo_report_ring_create(const char *name, unsigned count)
{
	struct rte_ring *r = rte_ring_create_elem(name, sizeof(struct match_report), count,
						  (int)rte_socket_id(),
						  RING_F_SP_ENQ | RING_F_SC_DEQ);

	if (r == NULL)
		fprintf(stderr, "report ring %s of %u: %s\n", name, count, rte_strerror(rte_errno));
	return r;
}

/* The matching core's side: reports gather in a burst that goes into the
 * ring when full and at the end, as a stage sends once per rx burst; it
 * waits for room rather than drop any. */
struct report_batch {
	struct rte_ring *ring;
	unsigned n;
	struct match_report burst[BURST];
};

static void
batch_flush(struct report_batch *b)
{
	for (unsigned done = 0; done < b->n;)
		done += rte_ring_enqueue_burst_elem(b->ring, b->burst + done, sizeof(b->burst[0]),
						    b->n - done, NULL);
	b->n = 0;
}

static void
batch_sink(void *ctx, const struct match_report *reports, int n)
{
	struct report_batch *b = ctx;

	for (int i = 0; i < n; i++) {
		if (b->n == BURST)
			batch_flush(b);
		b->burst[b->n++] = reports[i];
	}
}

int
colo_match_run_to_ring(struct match_book *b, const struct match_command *cmds, size_t n,
		       struct match_report *out, uint32_t room, struct rte_ring *ring)
{
	struct report_batch batch = {.ring = ring, .n = 0};
	int ret = match_replay(b, cmds, n, out, room, batch_sink, &batch);
	struct match_report end = {.type = MATCH_REPORT_TYPE_N}; /* the consumer's stop mark */

	batch_sink(&batch, &end, 1);
	batch_flush(&batch);
	return ret;
}

static struct {
	struct rte_ring *ring;
	struct match_totals *totals;
} drain;

static int
drain_main(void *arg)
{
	struct match_report burst[BURST];

	(void)arg;
	for (;;) {
		unsigned n = rte_ring_dequeue_burst_elem(drain.ring, burst, sizeof(burst[0]), BURST,
							 NULL);
		for (unsigned i = 0; i < n; i++) {
			if (burst[i].type == MATCH_REPORT_TYPE_N) {
				match_totals_add(drain.totals, burst, (int)i);
				return 0;
			}
		}
		match_totals_add(drain.totals, burst, (int)n);
	}
}

int
colo_report_drain_launch(unsigned lcore, struct rte_ring *ring, struct match_totals *totals)
{
	drain.ring = ring;
	drain.totals = totals;
	return rte_eal_remote_launch(drain_main, NULL, lcore);
}

/* The order path's bench client: a port whose rx and tx are two rings of
 * its own, so the main lcore can play the client on the far side. */
struct order_bench_port {
	struct rte_ring *to_port, *from_port;
};

static struct order_bench_port order_bench;

int
colo_order_bench_port_create(unsigned size, struct rte_mempool *mp)
{
	struct colo_port_info info;

	order_bench.to_port = rte_ring_create("order_bench_rx", size, (int)rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
	order_bench.from_port = rte_ring_create("order_bench_tx", size, (int)rte_socket_id(),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (order_bench.to_port == NULL || order_bench.from_port == NULL) {
		fprintf(stderr, "order bench rings of %u: %s\n", size, rte_strerror(rte_errno));
		return -1;
	}
	int port = rte_eth_from_rings("order_bench", &order_bench.to_port, 1,
				      &order_bench.from_port, 1, (unsigned)rte_socket_id());
	if (port < 0) {
		fprintf(stderr, "order bench port: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return port_start((uint16_t)port, "order_bench", mp, 1024, 1024, 0, &info) == 0 ? port : -1;
}

/* Frees what the port sent; returns how many frames. */
static unsigned
order_bench_drain(void)
{
	void *out[BURST];
	unsigned n = rte_ring_dequeue_burst(order_bench.from_port, out, BURST, NULL);

	rte_pktmbuf_free_bulk((struct rte_mbuf **)out, n);
	return n;
}

uint64_t
colo_order_bench_send(struct rte_mempool *mp, const uint8_t *frames, const uint16_t *lens,
		      unsigned n, unsigned burst, uint64_t gap_cycles, uint64_t linger_cycles)
{
	uint64_t received = 0, next = rte_rdtsc();
	struct rte_mbuf *pkts[BURST];

	if (burst == 0 || burst > BURST)
		burst = BURST;
	for (unsigned sent = 0; sent < n;) {
		received += order_bench_drain();
		if (rte_rdtsc() < next)
			continue;
		unsigned count = n - sent < burst ? n - sent : burst;
		if (rte_pktmbuf_alloc_bulk(mp, pkts, count) != 0)
			continue;
		for (unsigned i = 0; i < count; i++) {
			memcpy(rte_pktmbuf_mtod(pkts[i], void *), frames, lens[sent + i]);
			pkts[i]->data_len = pkts[i]->pkt_len = lens[sent + i];
			frames += lens[sent + i];
		}
		for (unsigned done = 0; done < count;)
			done += rte_ring_enqueue_burst(order_bench.to_port, (void **)pkts + done,
						       count - done, NULL);
		sent += count;
		next += gap_cycles;
	}
	for (uint64_t end = rte_rdtsc() + linger_cycles; rte_rdtsc() < end;)
		received += order_bench_drain();
	return received;
}
