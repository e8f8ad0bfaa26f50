/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_PCAP_H
#define SYNGUARD_PCAP_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

/* Reads pcap (us and ns, either byte order) and pcapng, as tcpdump writes them. */
#define PCAP_MAX_IFACES 256
#define PCAP_MAX_RECORD (1U << 20)

struct pcap_reader {
	FILE *f;
	bool ng;		/* pcapng */
	bool swap;		/* file byte order differs from ours */
	__u32 linktype;		/* pcap: the one link type */
	__u32 n_ifaces;		/* pcapng: link type per interface id */
	__u16 if_linktype[PCAP_MAX_IFACES];
	__u8 *buf;
	__u64 offset;		/* of the next record, for messages */
};

struct pcap_pkt {
	const __u8 *data;
	__u32 caplen;
	__u32 wirelen;
	__u32 linktype;
};

/* 0, or -1 with a message in @err. */
int pcap_open(struct pcap_reader *r, const char *path, char *err, size_t errlen);
/* 1 with a packet, 0 at the end, -1 with a message in @err. */
int pcap_next(struct pcap_reader *r, struct pcap_pkt *p, char *err, size_t errlen);
void pcap_close(struct pcap_reader *r);
/*
 * The packet as the Ethernet frame an XDP program would see: link types
 * EN10MB, LINUX_SLL, LINUX_SLL2 and raw IP.  Length, or -1 if the link
 * type is not one of those or the packet is too short for its header.
 */
int pcap_to_ether(const struct pcap_pkt *p, __u8 *out, size_t cap);

#endif
