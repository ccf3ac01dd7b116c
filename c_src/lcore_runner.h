/* Stages on lcores: each stage is a poll function; an lcore runs the stages
 * placed on it down in placement order and back up (md gateway risk
 * matching risk gateway), so one core can carry them all on a small machine
 * and each gets its own core on a big one. Place them in the order requests
 * flow. */
#ifndef LCORE_RUNNER_H
#define LCORE_RUNNER_H

#include <stdint.h>

/* One pass over the stage's inputs at TSC time now: > 0 when it did work,
 * 0 when idle, < 0 when it has finished by itself (benchmarks). */
typedef int stage_poll_fn(void *stage, uint64_t now);
/* Called once on the stage's lcore after it stopped: final flushes. */
typedef void stage_finish_fn(void *stage);

int lcore_runner_place(unsigned lcore, const char *name, stage_poll_fn *poll,
		stage_finish_fn *finish, void *stage);

#endif
