# SPDX-License-Identifier: BSD-2-Clause
# isles-agent: the static guest agent (runs inside every VM).  It is built
# on the shared protocol code (libproto: framing, EXEC parser, output
# queue) and the host layer's log (libhost), both built for the guest.
GUEST_PROGS += isles-agent
isles-agent_SRCS := src/guest/agent/isles-agent.c
isles-agent_LIBA := proto host
