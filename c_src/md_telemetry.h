/* Serves the md stage's counters on DPDK's telemetry socket as /colo/md. */
#ifndef MD_TELEMETRY_H
#define MD_TELEMETRY_H

#include "colo.h"

/* NULL unregisters the counters (the command then answers empty); it
 * returns once no command still reads the old ones. */
void md_telemetry_register(const struct md_counters *c);

#endif
