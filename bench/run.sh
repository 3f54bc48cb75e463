#!/usr/bin/env bash
# `strata run --rm busybox true`, end to end (create, monitor, runtime,
# teardown, removal): the median of RUNS (default 50) in milliseconds. Then
# the monitor's memory, from smaps_rollup: of one idle monitor (`run -d
# busybox sleep`) alone, and per monitor with MONITORS (default 10) running,
# where the monitors share their executable's pages (Pss divides them).
# BASELINE=/path/to/other/strata interleaves its runs with this build's (on
# a busy machine only interleaved runs compare) and reports both medians.
# RUN_ARGS adds flags to the timed run (RUN_ARGS="--network none" leaves the
# default bridge network's setup out).
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-50}
monitors=${MONITORS:-10}
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$work"
}
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
"${s[@]}" run --rm busybox true # warm the page cache
read -ra extra <<<"${RUN_ARGS:-}"
times=() base=()
for _ in $(seq "$runs"); do
	times+=("$(ms "${s[@]}" run --rm "${extra[@]}" busybox true)")
	if [[ -n ${BASELINE:-} ]]; then
		base+=("$(ms "$BASELINE" --root "$work/root" --runroot "$work/run" run --rm "${extra[@]}" busybox true)")
	fi
done
echo "run --rm ${RUN_ARGS:-}${RUN_ARGS:+ }busybox true: median $(median "${times[@]}") ms over $runs runs (min $(printf '%s\n' "${times[@]}" | sort -n | head -1), max $(printf '%s\n' "${times[@]}" | sort -n | tail -1)); load $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -n ${BASELINE:-} ]]; then
	echo "  $BASELINE, interleaved: median $(median "${base[@]}") ms"
fi

# monitor_pid ID: the pid of container ID's monitor.
monitor_pid() { sed -n 's/.*"MonitorPid":\([0-9]*\).*/\1/p' "$work/root/containers/$1/state.json"; }
# memory PID: VmRSS, Pss, private and anonymous memory of PID, in kB.
memory() {
	awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_(Clean|Dirty):/ {v+=$2} /^Anonymous:/ {a=$2}
		END {printf "VmRSS %d kB, Pss %d kB, private %d kB, anonymous %d kB", r, p, v, a}' "/proc/$1/smaps_rollup"
}
echo "monitor executable: $(readlink "/proc/$(monitor_pid "$("${s[@]}" run -d busybox sleep 600)")/exe") ($(stat -c %s "$repo/bin/strata-monitor" 2>/dev/null || echo -) bytes; strata $(stat -c %s "$strata") bytes)"
"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null
id=$("${s[@]}" run -d busybox sleep 600)
sleep 1 # idle
echo "one idle monitor: $(memory "$(monitor_pid "$id")")"
for _ in $(seq 2 "$monitors"); do "${s[@]}" run -d busybox sleep 600 >/dev/null; done
sleep 1
echo "each of $monitors idle monitors: $(memory "$(monitor_pid "$id")")"
"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null
