/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conproto: moved to src/proto/conproto.h with the other protocols.  This
 * forwarding header only keeps `#include "consoled/conproto.h"` working in
 * src/isles/conclient.h until that file includes "proto/conproto.h"
 * itself; nothing else includes it.  Delete it then.
 */
#include "proto/conproto.h"
