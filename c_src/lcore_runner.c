/* The per-lcore loop every stage runs in (lcore_runner.h). */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "burst_histogram.h"
#include "colo.h"
#include "lcore_runner.h"

#define STAGES_PER_LCORE 4
/* After a stop, the stages go on until DRAIN_IDLE_ROUNDS rounds in a row
 * find no work (what stages on other lcores still pass along arrives
 * meanwhile), or for DRAIN_MS at most: a port that never falls silent
 * (net_null) cannot hold the stop up. */
#define DRAIN_IDLE_ROUNDS 1000
#define DRAIN_MS 20
#define STALL_US 50 /* an idle poll this long is not the poll's doing */

struct placed_stage {
	const char *name;
	stage_poll_fn *poll;
	stage_finish_fn *finish;
	void *stage;
	uint64_t busy_cycles[COLO_HIST_BUCKETS]; /* passes that did work */
};

struct lcore_stages {
	struct placed_stage stages[STAGES_PER_LCORE];
	unsigned n;
	struct colo_lcore_stats stats; /* written by the lcore only */
	uint64_t stall_cycles;
};

static struct lcore_stages placed[RTE_MAX_LCORE];
static volatile int stopping;
static int stopped; /* the last stages stopped: kept to be read until new ones are placed */

int
lcore_runner_place(unsigned lcore, const char *name, stage_poll_fn *poll,
		   stage_finish_fn *finish, void *stage)
{
	if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore) ||
	    lcore == rte_get_main_lcore()) {
		fprintf(stderr, "%s: lcore %u is not a datapath lcore of this EAL\n", name, lcore);
		return -1;
	}
	if (stopped) {
		memset(placed, 0, sizeof(placed));
		stopped = 0;
	}
	struct lcore_stages *l = &placed[lcore];
	if (l->n == STAGES_PER_LCORE) {
		fprintf(stderr, "%s: lcore %u already runs %d stages\n", name, lcore,
			STAGES_PER_LCORE);
		return -1;
	}
	l->stages[l->n++] = (struct placed_stage){.name = name, .poll = poll, .finish = finish,
						  .stage = stage};
	return 0;
}

/* One pass of stage i. A pass that did work goes into the stage's busy
 * time; an idle pass far longer than a poll means the core was taken away
 * (an interrupt, another thread): a stall. */
static int
stage_pass(struct lcore_stages *l, unsigned i, uint64_t *last)
{
	struct placed_stage *st = &l->stages[i];
	uint64_t start = *last;
	int r = st->poll(st->stage, start);
	uint64_t end = rte_rdtsc();

	if (r > 0)
		burst_histogram_add(st->busy_cycles, end - start);
	else if (end - start > l->stall_cycles) {
		l->stats.stalls++;
		if (end - start > l->stats.longest_stall_cycles)
			l->stats.longest_stall_cycles = end - start;
	}
	*last = end;
	return r;
}

/* One round over the lcore's stages, down in placement order and back up
 * short of the first (the next round starts there). Stages are placed in
 * the order requests flow (md, gateway, risk, matching), so reports come
 * back up through risk to the gateway in one round: md gateway risk
 * matching risk gateway. Returns how many stages have finished. */
static int
poll_round(struct lcore_stages *l, int *work, uint64_t *last)
{
	unsigned finished = 0;
	unsigned passes = l->n > 1 ? 2 * l->n - 2 : 1;

	*work = 0;
	l->stats.rounds++;
	for (unsigned k = 0; k < passes; k++) {
		unsigned i = k < l->n ? k : 2 * (l->n - 1) - k;
		int r = stage_pass(l, i, last);
		if (r < 0)
			finished |= 1u << i;
		else
			*work += r;
	}
	return __builtin_popcount(finished);
}

static int
lcore_main(void *arg)
{
	struct lcore_stages *l = arg;
	uint64_t last = rte_rdtsc();
	int work;

	l->stats = (struct colo_lcore_stats){0};
	l->stall_cycles = rte_get_tsc_hz() / 1000000 * STALL_US;
	while (!stopping)
		if (poll_round(l, &work, &last) == (int)l->n)
			goto finish;
	uint64_t deadline = rte_rdtsc() + rte_get_tsc_hz() / 1000 * DRAIN_MS;
	for (unsigned idle = 0; idle < DRAIN_IDLE_ROUNDS && rte_rdtsc() < deadline;) {
		poll_round(l, &work, &last);
		idle = work ? 0 : idle + 1;
	}
finish:
	for (unsigned i = 0; i < l->n; i++)
		if (l->stages[i].finish != NULL)
			l->stages[i].finish(l->stages[i].stage);
	return 0;
}

int
colo_lcores_launch(void)
{
	stopping = 0;
	for (unsigned lcore = 0; lcore < RTE_MAX_LCORE; lcore++) {
		if (placed[lcore].n == 0)
			continue;
		int ret = rte_eal_remote_launch(lcore_main, &placed[lcore], lcore);
		if (ret != 0) {
			fprintf(stderr, "cannot launch %s on lcore %u: %s\n",
				placed[lcore].stages[0].name, lcore, rte_strerror(-ret));
			colo_lcores_stop();
			return ret;
		}
	}
	return 0;
}

int
colo_lcores_wait(void)
{
	int ret = 0;

	for (unsigned lcore = 0; lcore < RTE_MAX_LCORE; lcore++) {
		if (placed[lcore].n == 0)
			continue;
		if (rte_eal_wait_lcore(lcore) < 0)
			ret = -1;
	}
	stopped = 1;
	return ret;
}

const uint64_t *
colo_stage_busy_cycles(const char *name)
{
	for (unsigned lcore = 0; lcore < RTE_MAX_LCORE; lcore++)
		for (unsigned i = 0; i < placed[lcore].n; i++)
			if (strcmp(placed[lcore].stages[i].name, name) == 0)
				return placed[lcore].stages[i].busy_cycles;
	return NULL;
}

const struct colo_lcore_stats *
colo_lcore_stats(unsigned lcore)
{
	return lcore < RTE_MAX_LCORE ? &placed[lcore].stats : NULL;
}

int
colo_lcores_stop(void)
{
	stopping = 1;
	return colo_lcores_wait();
}
