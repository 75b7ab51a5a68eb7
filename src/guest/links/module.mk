# SPDX-License-Identifier: BSD-2-Clause
# Guest tools of the links between VMs (docs/links.md), static, into
# build/guest/ (the image copies every program there to /usr/bin):
# vsock-server and vsock-client (busybox has no vsock), vport-links
# (/dev/virtio-ports/NAME for the console links' named ports: no udev).
GUEST_PROGS += vsock-server vsock-client vport-links
vsock-server_SRCS := src/guest/links/vsock-server.c src/guest/links/vsockio.c
vsock-client_SRCS := src/guest/links/vsock-client.c src/guest/links/vsockio.c
vport-links_SRCS := src/guest/links/vport-links.c
