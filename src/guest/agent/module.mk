# SPDX-License-Identifier: BSD-2-Clause
# isles-agent: the static guest agent (runs inside every VM).  Its pure
# parts (output queue, EXEC parser) are a library for the unit tests.
LIBS += guestagent
guestagent_SRCS := src/guest/agent/agent.c
GUEST_PROGS += isles-agent
isles-agent_SRCS := src/guest/agent/isles-agent.c
isles-agent_LIBA := guestagent proto host
