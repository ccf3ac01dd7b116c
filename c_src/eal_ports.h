/* Port bring-up shared by configured ports and benchmark ports. */
#ifndef EAL_PORTS_H
#define EAL_PORTS_H

#include "colo.h"

/* colo_port_start for a port already known by id; device_name labels errors. */
int port_start(uint16_t port, const char *device_name, struct rte_mempool *mp,
		uint16_t rx_desc, uint16_t tx_desc, int allmulticast, struct colo_port_info *info);

#endif
