#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "udp_frame.h"

/* One's complement sum, 8 bytes at a time with end-around carry. Feed
 * frames are ~60 bytes: rte_raw_cksum's vectorised loop spends more on
 * setting up than on such a frame. Any 16-bit-aligned split of the data
 * sums the same, since 2^16, 2^32 and 2^64 are all 1 mod 0xffff. */
static inline uint64_t
ones_sum(const uint8_t *p, uint32_t len, uint64_t sum)
{
	uint64_t w;
	uint32_t w4;
	uint16_t w2;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		sum += w;
		sum += sum < w;
	}
	if (len & 4) {
		memcpy(&w4, p, 4);
		sum += w4;
		sum += sum < w4;
		p += 4;
	}
	if (len & 2) {
		memcpy(&w2, p, 2);
		sum += w2;
		sum += sum < w2;
		p += 2;
	}
	if (len & 1) { /* the low byte of a last 16-bit word, as loaded */
		sum += *p;
		sum += sum < *p;
	}
	return sum;
}

static inline uint16_t
ones_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The UDP checksum's sum over the pseudo header, the UDP header and payload;
 * ip's addresses and udp's length field are read as they are on the wire. */
static inline uint64_t
udp_sum(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp, uint32_t udp_len)
{
	uint64_t sum = ones_sum((const uint8_t *)&ip->src_addr, 8, 0);
	sum += rte_cpu_to_be_16(IPPROTO_UDP) + (uint64_t)udp->dgram_len;
	return ones_sum((const uint8_t *)udp, udp_len, sum);
}

int
udp_frame_parse(const uint8_t *frame, uint32_t len, int drop_bad_checksum,
		struct udp_view *v, uint64_t *ip_errors, uint64_t *udp_errors)
{
	uint32_t l2 = sizeof(struct rte_ether_hdr);
	uint16_t ether_type;

	if (len < l2 + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
		return COLO_DROP_RUNT;
	ether_type = rte_be_to_cpu_16(((const struct rte_ether_hdr *)frame)->ether_type);
	if (ether_type == RTE_ETHER_TYPE_VLAN) {
		ether_type = rte_be_to_cpu_16(((const struct rte_vlan_hdr *)(frame + l2))->eth_proto);
		l2 += sizeof(struct rte_vlan_hdr);
		if (len < l2 + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
			return COLO_DROP_RUNT;
	}
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + l2);
	if (ether_type != RTE_ETHER_TYPE_IPV4 || (ip->version_ihl >> 4) != 4 ||
	    ip->next_proto_id != IPPROTO_UDP)
		return COLO_DROP_NOT_IPV4_UDP;

	uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
	uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || ip_len < ihl + sizeof(struct rte_udp_hdr) || l2 + ip_len > len)
		return COLO_DROP_BAD_LENGTH;
	if (rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return COLO_DROP_IP_FRAGMENT;

	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	uint32_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (udp_len < sizeof(*udp) || udp_len != ip_len - ihl)
		return COLO_DROP_BAD_LENGTH;

	int bad = 0;
	if (ones_fold(ones_sum((const uint8_t *)ip, ihl, 0)) != 0xffff) {
		(*ip_errors)++;
		bad = 1;
	}
	if (udp->dgram_cksum != 0 && ones_fold(udp_sum(ip, udp, udp_len)) != 0xffff) {
		(*udp_errors)++;
		bad = 1;
	}
	if (bad && drop_bad_checksum)
		return COLO_DROP_BAD_CHECKSUM;

	v->payload = (const uint8_t *)(udp + 1);
	v->len = (uint16_t)(udp_len - sizeof(*udp));
	v->src_mac = ((const struct rte_ether_hdr *)frame)->src_addr.addr_bytes;
	v->src_ip = rte_be_to_cpu_32(ip->src_addr);
	v->dst_ip = rte_be_to_cpu_32(ip->dst_addr);
	v->src_port = rte_be_to_cpu_16(udp->src_port);
	v->dst_port = rte_be_to_cpu_16(udp->dst_port);
	v->checksum_bad = bad;
	return -1;
}

void
udp_frame_multicast_mac(uint32_t group, uint8_t mac[6])
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (group >> 16) & 0x7f;
	mac[4] = (group >> 8) & 0xff;
	mac[5] = group & 0xff;
}

static struct rte_ipv4_hdr *
ether_ipv4_write(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6])
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;

	memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
	memcpy(eth->src_addr.addr_bytes, src_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	return (struct rte_ipv4_hdr *)(eth + 1);
}

uint16_t
udp_frame_write(uint8_t *frame, const struct udp_frame_template *t, uint16_t payload_len)
{
	struct rte_ipv4_hdr *ip = ether_ipv4_write(frame, t->src_mac, t->dst_mac);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t udp_len = (uint16_t)(sizeof(*udp) + payload_len);

	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + udp_len)),
		.time_to_live = t->ttl,
		.next_proto_id = IPPROTO_UDP,
		.src_addr = rte_cpu_to_be_32(t->src_ip),
		.dst_addr = rte_cpu_to_be_32(t->dst_ip),
	};
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(t->src_port);
	udp->dst_port = rte_cpu_to_be_16(t->dst_port);
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return (uint16_t)(UDP_FRAME_HEADERS + payload_len);
}

#define IGMP_ALL_ROUTERS 0xE0000002 /* 224.0.0.2: where Leave Group goes */

uint16_t
igmp_write(uint8_t *frame, const uint8_t src_mac[6], uint32_t src_ip, uint32_t group, int leave)
{
	uint32_t dst = leave ? IGMP_ALL_ROUTERS : group;
	uint8_t dst_mac[6];
	udp_frame_multicast_mac(dst, dst_mac);
	struct rte_ipv4_hdr *ip = ether_ipv4_write(frame, src_mac, dst_mac);
	uint8_t *options = (uint8_t *)(ip + 1);
	uint8_t *igmp = options + 4;

	*ip = (struct rte_ipv4_hdr){
		.version_ihl = 0x46, /* IHL 6: the router alert option */
		.total_length = rte_cpu_to_be_16(24 + 8),
		.time_to_live = 1,
		.next_proto_id = IPPROTO_IGMP,
		.src_addr = rte_cpu_to_be_32(src_ip),
		.dst_addr = rte_cpu_to_be_32(dst),
	};
	memcpy(options, "\x94\x04\x00\x00", 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	igmp[0] = leave ? 0x17 : 0x16; /* v2 Leave Group, v2 Membership Report */
	igmp[1] = 0;
	igmp[2] = igmp[3] = 0;
	*(uint32_t *)(igmp + 4) = rte_cpu_to_be_32(group);
	uint16_t sum = (uint16_t)~rte_raw_cksum(igmp, 8);
	memcpy(igmp + 2, &sum, 2);
	memset(igmp + 8, 0, 14); /* pad to the 60-byte Ethernet minimum */
	return RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
}

uint16_t
arp_reply_write(uint8_t *out, const uint8_t *frame, uint32_t len, const uint8_t mac[6],
		uint32_t ip)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const struct rte_arp_hdr *req = (const struct rte_arp_hdr *)(eth + 1);

	if (len < sizeof(*eth) + sizeof(*req) ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) ||
	    req->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    req->arp_data.arp_tip != rte_cpu_to_be_32(ip))
		return 0;
	struct rte_ether_hdr *reth = (struct rte_ether_hdr *)out;
	struct rte_arp_hdr *rep = (struct rte_arp_hdr *)(reth + 1);
	reth->dst_addr = eth->src_addr;
	memcpy(reth->src_addr.addr_bytes, mac, 6);
	reth->ether_type = eth->ether_type;
	*rep = *req;
	rep->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rep->arp_data.arp_tha = req->arp_data.arp_sha;
	rep->arp_data.arp_tip = req->arp_data.arp_sip;
	memcpy(rep->arp_data.arp_sha.addr_bytes, mac, 6);
	rep->arp_data.arp_sip = req->arp_data.arp_tip;
	memset(rep + 1, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN - sizeof(*reth) - sizeof(*rep));
	return RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
}
