/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hv: see hostile.h.  Builds rings and messages no real driver or VMM
 * would send, through the test front-end (front.h).
 */
#include "tests/lib/hostile.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const ring_names[HV_RING_ATTACKS] = {
	"descriptor-outside-guest-memory", "descriptor-wrapping-address",
	"descriptor-running-past-memory", "zero-length-descriptor",
	"looping-chain", "avail-idx-jump", "head-index-out-of-range",
	"indirect-table-outside-memory", "nested-indirect-table",
};

const char *
hv_ring_attack_name(enum hv_ring_attack a)
{
	return a < HV_RING_ATTACKS ? ring_names[a] : "?";
}

static void
put_desc(struct vq_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

int
hv_ring_attack(struct vf_dev *d, struct vf_ring *r, enum hv_ring_attack a,
    uint64_t buf)
{
	struct vq_desc *t = r->desc;
	uint16_t head = 0;

	switch (a) {
	case HV_DESC_OUTSIDE:
		put_desc(&t[0], d->mem_size + 4096, 64, 0, 0);
		break;
	case HV_DESC_WRAP:
		put_desc(&t[0], UINT64_MAX - 15, 64, 0, 0);
		break;
	case HV_DESC_LEN_PAST_END:
		put_desc(&t[0], d->mem_size - 64, 8192, 0, 0);
		break;
	case HV_ZERO_LEN:
		put_desc(&t[0], buf, 64, VQ_DESC_F_NEXT, 1);
		put_desc(&t[1], buf + 64, 0, 0, 0);
		break;
	case HV_LOOP:
		put_desc(&t[0], buf, 64, VQ_DESC_F_NEXT, 1);
		put_desc(&t[1], buf + 64, 64, VQ_DESC_F_NEXT, 0);
		break;
	case HV_AVAIL_JUMP:
		put_desc(&t[0], buf, 64, 0, 0);
		/* One entry, then idx as if 2 x the ring were published. */
		vf_avail(r, 0);
		r->avail_idx = (uint16_t)(r->avail_idx + 2 * r->num);
		return vf_kick(r);
	case HV_HEAD_RANGE:
		head = (uint16_t)(r->num + 3);
		break;
	case HV_INDIRECT_OUTSIDE:
		put_desc(&t[0], d->mem_size + 8192, 32, VQ_DESC_F_INDIRECT, 0);
		break;
	case HV_INDIRECT_NESTED: {
		struct vq_desc *it = vf_ptr(d, buf + 2048);

		put_desc(&it[0], buf + 2048 + 64, 32, VQ_DESC_F_INDIRECT, 0);
		put_desc(&t[0], buf + 2048, 32, VQ_DESC_F_INDIRECT, 0);
		break;
	}
	default:
		errno = EINVAL;
		return -1;
	}
	vf_avail(r, head);
	return vf_kick(r);
}

/* ---- message attacks ---- */

struct msg_case {
	const char *name;
	/* Prepare and send the message on d (set up as `setup` says). */
	int (*send)(struct vf_dev *d, unsigned nq);
	bool setup;		/* features, memory table, queue 0 first */
};

static int
send_state(struct vf_dev *d, uint32_t req, uint32_t index, uint32_t num)
{
	struct vu_vring_state st = { index, num };

	return vf_msg(d, req, &st, sizeof(st), NULL, 0, false, NULL, NULL);
}

static int
m_index_first_invalid(struct vf_dev *d, unsigned nq)
{
	return send_state(d, VU_SET_VRING_NUM, nq, 16);
}

static int
m_index_255(struct vf_dev *d, unsigned nq)
{
	uint64_t v = 0xff;	/* KICK with index 255, no fd flag: 1 fd */
	int efd = eventfd(0, EFD_CLOEXEC), r;

	if (efd < 0)
		return -1;
	r = vf_msg(d, VU_SET_VRING_KICK, &v, sizeof(v), &efd, 1, false, NULL,
	    NULL);
	close(efd);
	return r;
}

static int
m_base_index(struct vf_dev *d, unsigned nq)
{
	return send_state(d, VU_GET_VRING_BASE, 0x10000 + nq, 0);
}

static int
m_size_not_pow2(struct vf_dev *d, unsigned nq)
{
	return send_state(d, VU_SET_VRING_NUM, 0, 100);
}

static int
m_size_too_big(struct vf_dev *d, unsigned nq)
{
	return send_state(d, VU_SET_VRING_NUM, 0, 32768);
}

/* Queue 1 (not started) gets rings outside the memory table. */
static int
m_ring_outside(struct vf_dev *d, unsigned nq)
{
	struct vu_vring_addr a = { 1, 0, 1ull << 50, 1ull << 50, 1ull << 50,
	    0 };

	if (send_state(d, VU_SET_VRING_NUM, 1, 16) < 0)
		return -1;
	return vf_msg(d, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, false,
	    NULL, NULL);
}

/* SET_MEM_TABLE of n regions r on fds (n_fds of them) of one memfd. */
static int
mem_table(struct vf_dev *d, const struct vu_mem_region_msg *r, unsigned n,
    unsigned n_fds, uint64_t file_size)
{
	struct vu_mem_table_msg mt;
	int memfd, fds[VU_MEM_MAX_REGIONS + 1], rc;

	memfd = memfd_create("hv", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, (off_t)file_size) < 0) {
		if (memfd >= 0)
			close(memfd);
		return -1;
	}
	memset(&mt, 0, sizeof(mt));
	mt.nregions = n;
	for (unsigned i = 0; i < n; i++)
		mt.r[i] = r[i];
	for (unsigned i = 0; i < n_fds; i++)
		fds[i] = memfd;
	rc = vf_msg(d, VU_SET_MEM_TABLE, &mt, 8 + 32 * n, fds, n_fds, false,
	    NULL, NULL);
	close(memfd);
	return rc;
}

static int
m_region_offset_past_file(struct vf_dev *d, unsigned nq)
{
	const struct vu_mem_region_msg r = { 0, 1 << 20, 1ull << 40,
	    1ull << 62 };

	return mem_table(d, &r, 1, 1, 2 << 20);
}

static int
m_region_offset_wraps(struct vf_dev *d, unsigned nq)
{
	const struct vu_mem_region_msg r = { 0, 1 << 20, 1ull << 40,
	    UINT64_MAX - 4095 };

	return mem_table(d, &r, 1, 1, 2 << 20);
}

static int
m_region_larger(struct vf_dev *d, unsigned nq)
{
	const struct vu_mem_region_msg r = { 0, 1u << 30, 1ull << 40, 0 };

	return mem_table(d, &r, 1, 1, 4096);
}

static int
m_regions_overlap(struct vf_dev *d, unsigned nq)
{
	const struct vu_mem_region_msg r[2] = {
		{ 0, 1 << 20, 1ull << 40, 0 },
		{ 1 << 19, 1 << 20, 1ull << 41, 0 },
	};

	return mem_table(d, r, 2, 2, 2 << 20);
}

static int
m_regions_without_fds(struct vf_dev *d, unsigned nq)
{
	const struct vu_mem_region_msg r[2] = {
		{ 0, 1 << 20, 1ull << 40, 0 },
		{ 2 << 20, 1 << 20, 1ull << 41, 0 },
	};

	return mem_table(d, r, 2, 1, 2 << 20);
}

static int
with_eventfds(struct vf_dev *d, uint32_t req, const void *p, uint32_t size,
    unsigned nfds)
{
	int efd[12];
	unsigned i;
	int rc = -1;

	for (i = 0; i < nfds; i++)
		if ((efd[i] = eventfd(0, EFD_CLOEXEC)) < 0)
			goto out;
	rc = vf_msg(d, req, p, size, efd, nfds, false, NULL, NULL);
out:
	while (i-- > 0)
		close(efd[i]);
	return rc;
}

static int
m_surplus_fds(struct vf_dev *d, unsigned nq)
{
	uint64_t idx = 0;

	return with_eventfds(d, VU_SET_VRING_CALL, &idx, sizeof(idx), 3);
}

static int
m_fd_on_fdless(struct vf_dev *d, unsigned nq)
{
	return with_eventfds(d, VU_SET_OWNER, NULL, 0, 1);
}

/* 11 fds with one message: more than VU_MAX_FDS (front.c refuses to). */
static int
m_more_fds_than_any_message(struct vf_dev *d, unsigned nq)
{
	uint64_t idx = 0;
	struct vu_hdr h = { VU_SET_VRING_ERR, VU_VERSION, sizeof(idx) };
	struct iovec iov[2] = { { &h, sizeof(h) }, { &idx, sizeof(idx) } };
	char cbuf[CMSG_SPACE(11 * sizeof(int))];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int efd[11], n = 0, rc = -1;

	for (n = 0; n < 11; n++)
		if ((efd[n] = eventfd(0, EFD_CLOEXEC)) < 0)
			goto out;
	memset(cbuf, 0, sizeof(cbuf));
	if ((cm = CMSG_FIRSTHDR(&mh)) == NULL)
		goto out;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(efd));
	memcpy(CMSG_DATA(cm), efd, sizeof(efd));
	rc = sendmsg(d->sock, &mh, MSG_NOSIGNAL) ==
	    (ssize_t)(sizeof(h) + sizeof(idx)) ? 0 : -1;
out:
	while (n-- > 0)
		close(efd[n]);
	return rc;
}

static int
m_config_range(struct vf_dev *d, unsigned nq)
{
	struct vu_config_msg c;

	memset(&c, 0, sizeof(c));
	c.offset = 200;
	c.size = 100;
	return vf_msg(d, VU_GET_CONFIG, &c, VU_CONFIG_HDR_SIZE + 100, NULL, 0,
	    false, NULL, NULL);
}

static int
m_payload_size(struct vf_dev *d, unsigned nq)
{
	uint64_t p[3] = { 0, 0, 0 };

	return vf_msg(d, VU_SET_FEATURES, p, sizeof(p), NULL, 0, false, NULL,
	    NULL);
}

static int
m_oversized(struct vf_dev *d, unsigned nq)
{
	/* Header only: a size no message has; the payload never comes. */
	struct vu_hdr h = { VU_SET_MEM_TABLE, VU_VERSION, 1u << 30 };

	return send(d->sock, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h) ? 0 : -1;
}

static int
m_features_not_offered(struct vf_dev *d, unsigned nq)
{
	uint64_t f = 1ull << 63;

	return vf_msg(d, VU_SET_FEATURES, &f, sizeof(f), NULL, 0, false, NULL,
	    NULL);
}

static const struct msg_case msg_cases[] = {
	{ "vring-index-first-invalid", m_index_first_invalid, false },
	{ "vring-index-255-on-kick", m_index_255, false },
	{ "vring-index-high-bits", m_base_index, false },
	{ "vring-size-not-power-of-two", m_size_not_pow2, false },
	{ "vring-size-above-maximum", m_size_too_big, false },
	{ "ring-outside-guest-memory", m_ring_outside, true },
	{ "region-offset-past-its-file", m_region_offset_past_file, false },
	{ "region-offset-wraps", m_region_offset_wraps, false },
	{ "region-larger-than-its-file", m_region_larger, false },
	{ "overlapping-regions", m_regions_overlap, false },
	{ "regions-without-their-fds", m_regions_without_fds, false },
	{ "surplus-fds", m_surplus_fds, false },
	{ "fd-on-fdless-message", m_fd_on_fdless, false },
	{ "more-fds-than-any-message", m_more_fds_than_any_message, false },
	{ "config-out-of-range", m_config_range, false },
	{ "payload-size-mismatch", m_payload_size, false },
	{ "oversized-message", m_oversized, false },
	{ "features-not-offered", m_features_not_offered, false },
};

unsigned
hv_msg_attacks(void)
{
	return sizeof(msg_cases) / sizeof(msg_cases[0]);
}

const char *
hv_msg_attack_name(unsigned i)
{
	return i < hv_msg_attacks() ? msg_cases[i].name : "?";
}

int
hv_msg_attack(const char *path, unsigned nq, unsigned i)
{
	const struct msg_case *mc;
	struct vf_dev d;
	uint8_t junk[64];
	uint32_t sz = sizeof(junk);
	struct pollfd pf;
	int closed;

	if (i >= hv_msg_attacks()) {
		errno = EINVAL;
		return -1;
	}
	mc = &msg_cases[i];
	if (vf_open(&d, path, 4u << 20) < 0)
		return -1;
	if (mc->setup && vf_setup(&d, 1, 16, 0) < 0) {
		vf_close(&d);
		return -1;
	}
	/* A send that fails because the back-end already hung up is fine. */
	(void)mc->send(&d, nq);
	/* Ask for something with a reply: a dropped connection gives EOF. */
	closed = vf_msg(&d, VU_GET_FEATURES, NULL, 0, NULL, 0, false, junk,
	    &sz) < 0;
	pf = (struct pollfd){ d.sock, POLLIN, 0 };
	if (!closed)
		closed = poll(&pf, 1, 1000) == 1 &&
		    recv(d.sock, junk, 1, MSG_DONTWAIT) == 0;
	vf_close(&d);
	return closed;
}

long
hv_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int
hv_nfds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}
