// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "pcap.h"

#define PCAP_MAGIC_US 0xa1b2c3d4
#define PCAP_MAGIC_NS 0xa1b23c4d
#define PCAPNG_SHB 0x0A0D0D0A
#define PCAPNG_BOM 0x1A2B3C4D
#define PCAPNG_IDB 1
#define PCAPNG_PB 2		/* obsolete Packet Block */
#define PCAPNG_SPB 3
#define PCAPNG_EPB 6

#define LINKTYPE_EN10MB 1
#define LINKTYPE_RAW_OLD 12
#define LINKTYPE_RAW 101
#define LINKTYPE_LINUX_SLL 113
#define LINKTYPE_IPV4 228
#define LINKTYPE_IPV6 229
#define LINKTYPE_LINUX_SLL2 276

static __u32 rd32(const struct pcap_reader *r, const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static __u16 rd16(const struct pcap_reader *r, const __u8 *p)
{
	__u16 v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

/* Exactly @n bytes, or an error naming where the file ends. */
static int read_exact(struct pcap_reader *r, void *buf, size_t n, bool eof_ok,
		      char *err, size_t errlen)
{
	size_t got = fread(buf, 1, n, r->f);

	if (got == n) {
		r->offset += n;
		return 1;
	}
	if (ferror(r->f)) {
		snprintf(err, errlen, "read error at byte %llu: %s",
			 (unsigned long long)r->offset, strerror(errno));
		return -1;
	}
	if (got == 0 && eof_ok)
		return 0;
	snprintf(err, errlen, "truncated: file ends inside the record at byte %llu",
		 (unsigned long long)r->offset);
	return -1;
}

static int ng_section(struct pcap_reader *r, const __u8 *body, char *err,
		      size_t errlen)
{
	__u32 bom;

	memcpy(&bom, body, 4);
	if (bom == PCAPNG_BOM)
		r->swap = false;
	else if (bom == __builtin_bswap32(PCAPNG_BOM))
		r->swap = true;
	else {
		snprintf(err, errlen, "not a pcapng file: bad byte-order magic");
		return -1;
	}
	r->n_ifaces = 0;	/* interface ids are per section */
	return 0;
}

int pcap_open(struct pcap_reader *r, const char *path, char *err, size_t errlen)
{
	__u8 hdr[24];
	__u32 magic;
	int rc;

	memset(r, 0, sizeof(*r));
	r->f = fopen(path, "rb");
	if (!r->f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	r->buf = malloc(PCAP_MAX_RECORD);
	if (!r->buf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rc = read_exact(r, hdr, 4, true, err, errlen);
	if (rc <= 0) {
		if (rc == 0)
			snprintf(err, errlen, "%s is empty, not a capture", path);
		goto fail;
	}
	memcpy(&magic, hdr, 4);
	if (magic == PCAPNG_SHB) {
		r->ng = true;
		rewind(r->f);
		r->offset = 0;
		return 0;
	}
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
		r->swap = false;
	else if (magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		 magic == __builtin_bswap32(PCAP_MAGIC_NS))
		r->swap = true;
	else {
		snprintf(err, errlen, "%s is not a pcap or pcapng file", path);
		goto fail;
	}
	if (read_exact(r, hdr + 4, 20, false, err, errlen) < 0)
		goto fail;
	r->linktype = rd32(r, hdr + 20) & 0x0FFFFFFF;	/* high bits: FCS info */
	return 0;
fail:
	pcap_close(r);
	return -1;
}

static int next_classic(struct pcap_reader *r, struct pcap_pkt *p, char *err,
			size_t errlen)
{
	__u8 rec[16];
	int rc = read_exact(r, rec, sizeof(rec), true, err, errlen);

	if (rc <= 0)
		return rc;
	p->caplen = rd32(r, rec + 8);
	p->wirelen = rd32(r, rec + 12);
	p->linktype = r->linktype;
	if (p->caplen > PCAP_MAX_RECORD) {
		snprintf(err, errlen, "corrupt record at byte %llu: %u bytes captured",
			 (unsigned long long)r->offset - 16, p->caplen);
		return -1;
	}
	if (read_exact(r, r->buf, p->caplen, false, err, errlen) < 0)
		return -1;
	p->data = r->buf;
	return 1;
}

static int next_ng(struct pcap_reader *r, struct pcap_pkt *p, char *err,
		   size_t errlen)
{
	for (;;) {
		__u64 start = r->offset;
		__u32 type, total, blen, ifid;
		__u8 head[8];
		const __u8 *b;
		int rc;

		rc = read_exact(r, head, 8, true, err, errlen);
		if (rc <= 0)
			return rc;
		memcpy(&type, head, 4);
		if (type == PCAPNG_SHB) {
			/* The byte order comes with the section: peek at it first. */
			if (read_exact(r, r->buf, 4, false, err, errlen) < 0 ||
			    ng_section(r, r->buf, err, errlen) < 0)
				return -1;
			total = rd32(r, head + 4);
			if (total < 28 || total % 4 || total > PCAP_MAX_RECORD)
				goto corrupt;
			if (read_exact(r, r->buf + 4, total - 12, false, err, errlen) < 0)
				return -1;
			continue;
		}
		type = rd32(r, head);
		total = rd32(r, head + 4);
		if (total < 12 || total % 4 || total > PCAP_MAX_RECORD)
			goto corrupt;
		if (read_exact(r, r->buf, total - 8, false, err, errlen) < 0)
			return -1;
		if (rd32(r, r->buf + total - 12) != total)
			goto corrupt;
		b = r->buf;
		blen = total - 12;	/* body only */

		if (type == PCAPNG_IDB) {
			if (blen < 8)
				goto corrupt;
			if (r->n_ifaces >= PCAP_MAX_IFACES) {
				snprintf(err, errlen, "more than %d interfaces", PCAP_MAX_IFACES);
				return -1;
			}
			r->if_linktype[r->n_ifaces++] = rd16(r, b);
			continue;
		}
		if (type == PCAPNG_EPB || type == PCAPNG_PB) {
			if (blen < 20)
				goto corrupt;
			ifid = type == PCAPNG_EPB ? rd32(r, b) : rd16(r, b);
			p->caplen = rd32(r, b + 12);
			p->wirelen = rd32(r, b + 16);
			if (p->caplen > blen - 20)
				goto corrupt;
			p->data = b + 20;
		} else if (type == PCAPNG_SPB) {
			if (blen < 4)
				goto corrupt;
			ifid = 0;
			p->wirelen = rd32(r, b);
			p->caplen = p->wirelen < blen - 4 ? p->wirelen : blen - 4;
			p->data = b + 4;
		} else {
			continue;	/* statistics, name resolution, custom... */
		}
		if (ifid >= r->n_ifaces) {
			snprintf(err, errlen, "packet at byte %llu names interface %u, "
				 "which no interface block described",
				 (unsigned long long)start, ifid);
			return -1;
		}
		p->linktype = r->if_linktype[ifid];
		return 1;
corrupt:
		snprintf(err, errlen, "corrupt pcapng block at byte %llu",
			 (unsigned long long)start);
		return -1;
	}
}

int pcap_next(struct pcap_reader *r, struct pcap_pkt *p, char *err, size_t errlen)
{
	return r->ng ? next_ng(r, p, err, errlen) : next_classic(r, p, err, errlen);
}

void pcap_close(struct pcap_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	r->f = NULL;
	r->buf = NULL;
}

static int with_ether_header(const __u8 *l3, __u32 len, __u16 proto, __u8 *out,
			     size_t cap)
{
	if (len + 14 > cap)
		return -1;
	memset(out, 0, 12);
	proto = htons(proto);
	memcpy(out + 12, &proto, 2);
	memcpy(out + 14, l3, len);
	return len + 14;
}

int pcap_to_ether(const struct pcap_pkt *p, __u8 *out, size_t cap)
{
	const __u8 *d = p->data;
	__u32 n = p->caplen;

	switch (p->linktype) {
	case LINKTYPE_EN10MB:
		if (n > cap)
			return -1;
		memcpy(out, d, n);
		return n;
	case LINKTYPE_LINUX_SLL:	/* protocol at 14, network order */
		if (n < 16)
			return -1;
		return with_ether_header(d + 16, n - 16, (d[14] << 8) | d[15], out, cap);
	case LINKTYPE_LINUX_SLL2:	/* protocol at 0 */
		if (n < 20)
			return -1;
		return with_ether_header(d + 20, n - 20, (d[0] << 8) | d[1], out, cap);
	case LINKTYPE_RAW:
	case LINKTYPE_RAW_OLD:
	case LINKTYPE_IPV4:
	case LINKTYPE_IPV6:
		if (n < 1)
			return -1;
		return with_ether_header(d, n, (d[0] >> 4) == 6 ? 0x86DD : 0x0800,
					 out, cap);
	}
	return -1;
}
