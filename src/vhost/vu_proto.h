/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vu_proto: vhost-user wire format (QEMU docs/interop/vhost-user.rst),
 * shared by the back-end (vu.c) and the test front-end (front.c).
 * Only constants and packed message layouts; no code.
 */
#ifndef ISLES_VU_PROTO_H
#define ISLES_VU_PROTO_H

#include <stdint.h>

#include "vhost/vu_mem.h"

enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_SET_SLAVE_REQ_FD = 21,
	VU_GET_CONFIG = 24,
	VU_SET_CONFIG = 25,
	VU_GET_INFLIGHT_FD = 31,
	VU_SET_INFLIGHT_FD = 32,
	VU_RESET_DEVICE = 34,
	VU_GET_MAX_MEM_SLOTS = 36,
	VU_MAX_REQUEST = 64,
};

/* Header flags */
#define VU_VERSION		0x1
#define VU_VERSION_MASK		0x3
#define VU_FLAG_REPLY		(1u << 2)
#define VU_FLAG_NEED_REPLY	(1u << 3)

/* Virtio feature bits used here */
#define VU_F_NOTIFY_ON_EMPTY	24
#define VU_F_INDIRECT_DESC	28
#define VU_F_EVENT_IDX		29
#define VU_F_PROTOCOL_FEATURES	30
#define VU_F_VERSION_1		32

/* Protocol feature bits */
#define VU_PF_MQ		0
#define VU_PF_REPLY_ACK		3
#define VU_PF_SLAVE_REQ		5
#define VU_PF_CONFIG		9
#define VU_PF_INFLIGHT_SHMFD	12
#define VU_PF_RESET_DEVICE	13

/* Back-end -> front-end requests (on the SET_SLAVE_REQ_FD channel) */
#define VU_SLAVE_CONFIG_CHANGE	2

#define VU_VRING_IDX_MASK	0xffu
#define VU_VRING_NOFD		(1u << 8)

#define VU_MAX_FDS		8
#define VU_CONFIG_MAX		256

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
} __attribute__((packed));

struct vu_mem_region_msg {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
} __attribute__((packed));

struct vu_mem_table_msg {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region_msg r[VU_MEM_MAX_REGIONS];
} __attribute__((packed));

struct vu_config_msg {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[VU_CONFIG_MAX];
} __attribute__((packed));

#define VU_CONFIG_HDR_SIZE 12

struct vu_inflight_msg {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding;	/* QEMU's struct is not packed: 24 bytes */
} __attribute__((packed));

union vu_payload {
	uint64_t u64;
	struct vu_vring_state state;
	struct vu_vring_addr addr;
	struct vu_mem_table_msg mem;
	struct vu_config_msg config;
	struct vu_inflight_msg inflight;
};

#endif
