# SPDX-License-Identifier: BSD-2-Clause
# isles-agent: the static guest agent (runs inside every VM).
GUEST_PROGS += isles-agent
isles-agent_SRCS := src/guest/agent/isles-agent.c
isles-agent_LIBA := common
