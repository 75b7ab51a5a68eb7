# SPDX-License-Identifier: BSD-2-Clause
#
# Medians of one back-end's runs at one frame size, for bench/net/run.sh
# and bench/net/frontend.sh.  Input: their per-run lines
# ("BACKEND size=S key=value ..."), already selected for be and size;
#   awk -v be=BACKEND -v size=S -f bench/net/medians.awk
function med(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1], NR] = kv[2] }
	n = NR
}
END {
	if (n == 0) { printf "%-8s size=%-5s no result\n", be, size; exit }
	split("mpps gbps backend_cpu_s pkts_per_cpu_s idle_cpu_s", keys, " ")
	printf "%-8s size=%-5s", be, size
	for (k = 1; k <= 5; k++) {
		for (i = 1; i <= n; i++) x[i] = v[keys[k], i]
		printf (keys[k] == "pkts_per_cpu_s" ? " %s=%.0f" : " %s=%.3f"), keys[k], med(x, n)
	}
	printf "\n"
}
