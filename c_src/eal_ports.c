/* EAL start and stop, mempools and port bring-up, with every call checked
 * and every failure explained. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "colo.h"
#include "eal_ports.h"

int
colo_eal_init(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);

	if (ret < 0)
		fprintf(stderr, "EAL initialization failed: %s\n", rte_strerror(rte_errno));
	return ret;
}

int
colo_eal_cleanup(void)
{
	return rte_eal_cleanup();
}

uint64_t
colo_tsc_hz(void)
{
	return rte_get_tsc_hz();
}

struct rte_mempool *
colo_mempool_create(const char *name, unsigned mbufs, unsigned cache, unsigned data_room,
		    int socket)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, mbufs, cache, 0,
							 (uint16_t)data_room, socket);

	if (mp == NULL)
		fprintf(stderr, "cannot create mempool %s (%u mbufs of %u bytes on socket %d): %s\n",
			name, mbufs, data_room, socket, rte_strerror(rte_errno));
	return mp;
}

void
colo_mempool_free(struct rte_mempool *mp)
{
	rte_mempool_free(mp);
}

int
colo_port_start(const char *device_name, struct rte_mempool *mp, uint16_t rx_desc,
		uint16_t tx_desc, int allmulticast, struct colo_port_info *info)
{
	uint16_t port;
	int ret = rte_eth_dev_get_port_by_name(device_name, &port);

	if (ret != 0) {
		fprintf(stderr, "port %s: no such DPDK device (is it probed? check -a/--vdev)\n",
			device_name);
		return ret;
	}
	return port_start(port, device_name, mp, rx_desc, tx_desc, allmulticast, info);
}

/* A port that failed part-way through its start is closed at once: its
 * queues may point into the mempool the caller frees next. Returns ret. */
static int
port_abandon(uint16_t port, int ret)
{
	rte_eth_dev_stop(port); /* whether or not it started */
	rte_eth_dev_close(port);
	return ret;
}

int
port_start(uint16_t port, const char *device_name, struct rte_mempool *mp, uint16_t rx_desc,
	   uint16_t tx_desc, int allmulticast, struct colo_port_info *info)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info dev_info;
	struct rte_ether_addr mac;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port, &dev_info);
	if (ret != 0) {
		fprintf(stderr, "port %s: cannot get device info: %s\n", device_name, rte_strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret != 0) {
		fprintf(stderr, "port %s: cannot configure: %s\n", device_name, rte_strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
	if (ret != 0) {
		fprintf(stderr, "port %s: cannot adjust descriptors: %s\n", device_name, rte_strerror(-ret));
		return port_abandon(port, ret);
	}
	int socket = rte_eth_dev_socket_id(port);
	ret = rte_eth_rx_queue_setup(port, 0, rx_desc, (unsigned)socket, NULL, mp);
	if (ret != 0) {
		fprintf(stderr, "port %s: cannot set up rx queue: %s\n", device_name, rte_strerror(-ret));
		return port_abandon(port, ret);
	}
	ret = rte_eth_tx_queue_setup(port, 0, tx_desc, (unsigned)socket, NULL);
	if (ret != 0) {
		fprintf(stderr, "port %s: cannot set up tx queue: %s\n", device_name, rte_strerror(-ret));
		return port_abandon(port, ret);
	}
	ret = rte_eth_dev_start(port);
	if (ret != 0) {
		fprintf(stderr, "port %s: cannot start: %s\n", device_name, rte_strerror(-ret));
		return port_abandon(port, ret);
	}
	if (allmulticast) {
		/* Virtual devices may not implement these; they pass all frames. */
		ret = rte_eth_allmulticast_enable(port);
		if (ret != 0 && ret != -ENOTSUP)
			fprintf(stderr, "port %s: all-multicast not enabled: %s\n", device_name,
				rte_strerror(-ret));
		ret = rte_eth_promiscuous_enable(port);
		if (ret != 0 && ret != -ENOTSUP)
			fprintf(stderr, "port %s: promiscuous mode not enabled: %s\n", device_name,
				rte_strerror(-ret));
	}
	ret = rte_eth_macaddr_get(port, &mac);
	if (ret != 0) {
		fprintf(stderr, "port %s: cannot read MAC address: %s\n", device_name, rte_strerror(-ret));
		return port_abandon(port, ret);
	}
	info->port_id = port;
	info->socket = socket;
	memcpy(info->mac, mac.addr_bytes, 6);
	snprintf(info->driver, sizeof(info->driver), "%s", dev_info.driver_name);
	return 0;
}

void
colo_port_close(uint16_t port)
{
	int ret = rte_eth_dev_stop(port);

	if (ret != 0)
		fprintf(stderr, "port %u: stop failed: %s\n", port, rte_strerror(-ret));
	ret = rte_eth_dev_close(port);
	if (ret != 0)
		fprintf(stderr, "port %u: close failed: %s\n", port, rte_strerror(-ret));
}
