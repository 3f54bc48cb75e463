#!/usr/bin/env bash
# `strata run --rm busybox true`, end to end (create, monitor, runtime,
# teardown, removal): the median of RUNS (default 50) in milliseconds. Then
# the monitor's memory: VmRSS of the monitor of `run -d busybox sleep 60`.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-50}
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$work"
}
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
"${s[@]}" run --rm busybox true # warm the page cache
times=()
for _ in $(seq "$runs"); do
	times+=("$(ms "${s[@]}" run --rm busybox true)")
done
echo "run --rm busybox true: median $(median "${times[@]}") ms over $runs runs (min $(printf '%s\n' "${times[@]}" | sort -n | head -1), max $(printf '%s\n' "${times[@]}" | sort -n | tail -1))"
id=$("${s[@]}" run -d busybox sleep 60)
pid=$(sed -n 's/.*"MonitorPid":\([0-9]*\).*/\1/p' "$work/root/containers/$id/state.json")
echo "monitor of run -d busybox sleep 60: $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status") VmRSS (pid $pid)"
"${s[@]}" rm -f "$id" >/dev/null
