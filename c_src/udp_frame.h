/* Ethernet (optionally one 802.1Q tag) / IPv4 / UDP: parse received frames
 * and write the headers of frames we send. No EAL needed. */
#ifndef UDP_FRAME_H
#define UDP_FRAME_H

#include <stdint.h>

#include "colo.h"

#define UDP_FRAME_HEADERS (14 + 20 + 8) /* untagged, no IP options */

struct udp_view {
	const uint8_t *payload;
	uint16_t len;
	const uint8_t *src_mac;
	uint32_t src_ip, dst_ip;     /* host order */
	uint16_t src_port, dst_port; /* host order */
	int checksum_bad;  /* IP or UDP checksum failed (and was not a drop) */
};

/* Returns -1 with *v filled, or the colo_drop_reason. Bad checksums are
 * counted in the two counters; they are a drop reason only when
 * drop_bad_checksum. */
int udp_frame_parse(const uint8_t *frame, uint32_t len, int drop_bad_checksum,
		struct udp_view *v, uint64_t *ip_errors, uint64_t *udp_errors);

struct udp_frame_template {
	uint8_t src_mac[6], dst_mac[6];
	uint32_t src_ip, dst_ip; /* host order */
	uint16_t src_port, dst_port;
	uint8_t ttl;
};

/* Writes Ethernet/IPv4/UDP headers in front of payload_len bytes already at
 * frame + UDP_FRAME_HEADERS, with both checksums; returns the frame length. */
uint16_t udp_frame_write(uint8_t *frame, const struct udp_frame_template *t,
		uint16_t payload_len);

/* The Ethernet address IPv4 multicast maps to: 01:00:5e + low 23 bits. */
void udp_frame_multicast_mac(uint32_t group, uint8_t mac[6]);

/* If frame is an ARP request for ip, writes the reply into out and returns
 * its length; else 0. */
uint16_t arp_reply_write(uint8_t *out, const uint8_t *frame, uint32_t len,
		const uint8_t mac[6], uint32_t ip);

/* An IGMPv2 message for group (RFC 2236, with router alert): a membership
 * report to the group, or with leave a Leave Group to all routers; padded to
 * the Ethernet minimum; returns the frame length (60). */
uint16_t igmp_write(uint8_t *frame, const uint8_t src_mac[6], uint32_t src_ip, uint32_t group,
		int leave);

#endif
