#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# VM-to-VM iperf3 TCP throughput through isles-switchd (issue 4's sanity
# figure).  Starts a system of two VMs (vm0, vm1, 256M, 1 vCPU) on one
# switch with `build/isles up --detach` under a fresh short run dir,
# gives them 192.168.1.1 and .2 with `isles exec ... ifconfig`, runs a
# one-off `iperf3 -s` in vm0 and `iperf3 -c 192.168.1.1 -t SECONDS -J` in
# vm1, and prints one line: sender and receiver Gbit/s, TCP retransmits,
# the CPU-seconds (utime + stime from /proc/PID/stat) of isles-switchd and
# of both QEMU processes over the client's run, and the switch's counters
# over the same interval (packets and bytes each port received from its VM,
# and of those the GSO/TSO super-frames, rx_gso_packets, from
# `isles status --json`).  The system is always taken down at exit.
#
#   bench/net/iperf.sh [SECONDS]        (default 10; root)
#
# Needs the built tree (make) and the guest image with iperf3 (built on
# demand by isles up).
set -eu
cd "$(dirname "$0")/../.."

secs=${1:-10}
case $secs in
''|*[!0-9]*) echo "usage: bench/net/iperf.sh [SECONDS]" >&2; exit 2 ;;
esac
PY=/usr/bin/python3
ISLES=$PWD/build/isles
[ -x "$ISLES" ] || { echo "bench/net: build/isles is missing: run make" >&2; exit 1; }

export ISLES_RUN_DIR
ISLES_RUN_DIR=$(mktemp -d /tmp/isl.XXXX)
cleanup() {
	"$ISLES" down --timeout 20 ipf >/dev/null 2>&1 || true
	rm -rf "$ISLES_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

conf=$ISLES_RUN_DIR/ipf.conf
cat >"$conf" <<'EOF'
name = "ipf";
switches = ( { name = "lan"; } );
vms = (
  { name = "vm0"; memory = "256M"; vcpus = 1; nics = ( { switch = "lan"; } ); },
  { name = "vm1"; memory = "256M"; vcpus = 1; nics = ( { switch = "lan"; } ); }
);
EOF

t0=$(date +%s.%N)
"$ISLES" up --detach "$conf" >&2
t1=$(date +%s.%N)

status() { "$ISLES" status --json ipf; }

# PIDs: isles-switchd of "lan", QEMU of vm0 and vm1.
read -r swpid vm0pid vm1pid < <(status | $PY -c '
import json, sys
d = json.load(sys.stdin)
sw = [x["pid"] for x in d["daemons"] if x["name"] == "switchd:lan"]
vms = {v["name"]: v["pid"] for v in d["vms"]}
print(sw[0], vms["vm0"], vms["vm1"])')

# utime + stime of a process, in clock ticks.
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# Per port: "NAME rx_packets rx_bytes rx_gso_packets drops DROP-REASON...".
counters() {
	status | $PY -c '
import json, sys
d = json.load(sys.stdin)
for s in d["switches"]:
    for p in s.get("ports", []):
        print(p["name"], p["rx_packets"], p["rx_bytes"], p["rx_gso_packets"], p["drops"],
              *(p["drop"][k] for k in sorted(p["drop"])))
    print("reasons", *sorted(p["drop"]))'
}

ex() { "$ISLES" exec -t $((secs + 60)) "$@"; }
ex vm0 -- ifconfig eth0 192.168.1.1 netmask 255.255.255.0 up
ex vm1 -- ifconfig eth0 192.168.1.2 netmask 255.255.255.0 up
ex vm0 -- iperf3 -s -1 -D
# Wait until the daemonized server listens (its bind follows the fork).
for i in $(seq 50); do
	ex vm0 -- sh -c 'netstat -ltn | grep -q ":5201 "' && break
	[ "$i" = 50 ] && { echo "bench/net: iperf3 -s does not listen in vm0" >&2; exit 1; }
	sleep 0.2
done

c0=$(counters)
sw0=$(ticks "$swpid"); q00=$(ticks "$vm0pid"); q10=$(ticks "$vm1pid")
json=$(ex vm1 -- iperf3 -c 192.168.1.1 -t "$secs" -J) || {
	echo "bench/net: iperf3 -c failed:" >&2
	echo "$json" >&2
	exit 1
}
sw1=$(ticks "$swpid"); q01=$(ticks "$vm0pid"); q11=$(ticks "$vm1pid")
c1=$(counters)

hz=$(getconf CLK_TCK)
IPERF_JSON=$json C0=$c0 C1=$c1 HZ=$hz SECS=$secs \
    UP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') SW=$((sw1 - sw0)) Q0=$((q01 - q00)) Q1=$((q11 - q10)) \
    $PY -c '
import json, os
e = os.environ
end = json.loads(e["IPERF_JSON"])["end"]
hz = float(e["HZ"])
def table(s):
    return {l.split()[0]: [int(x) for x in l.split()[1:]]
            for l in s.splitlines() if l and not l.startswith("reasons ")}
reasons = [l.split()[1:] for l in e["C1"].splitlines() if l.startswith("reasons ")][0]
a, b = table(e["C0"]), table(e["C1"])
d = {k: [y - x for x, y in zip(a[k], b[k])] for k in b}
print("iperf3 seconds=%s sender_gbps=%.3f receiver_gbps=%.3f retransmits=%d "
      "switch_cpu_s=%.2f qemu_vm0_cpu_s=%.2f qemu_vm1_cpu_s=%.2f up_s=%.1f" % (
      e["SECS"], end["sum_sent"]["bits_per_second"] / 1e9,
      end["sum_received"]["bits_per_second"] / 1e9,
      end["sum_sent"].get("retransmits", -1),
      int(e["SW"]) / hz, int(e["Q0"]) / hz, int(e["Q1"]) / hz, float(e["UP"])))
for name in sorted(d):
    pk, by, gso, drops = d[name][:4]
    why = "".join(" %s=%d" % (r, n) for r, n in zip(reasons, d[name][4:]) if n)
    print("  port %s from its VM: packets=%d bytes=%d gso_packets=%d "
          "avg_bytes=%d drops=%d%s" % (name, pk, by, gso, by // pk if pk else 0, drops, why))
'
