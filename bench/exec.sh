#!/usr/bin/env bash
# `strata exec C true` against a `run -d busybox sleep`, end to end (CLI,
# store lookup, sealed copy of the binary, nsenter helper, namespaces,
# cgroup, execve, wait): the median of RUNS (default 30) in milliseconds.
# With runc on the PATH, `runc exec` into a container of the same bundle
# shape is timed next to it for comparison.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-30}
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$work"
}
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
id=$("${s[@]}" run -d busybox sleep 1000)
"${s[@]}" exec "$id" true # warm the page cache
times=()
for _ in $(seq "$runs"); do
	times+=("$(ms "${s[@]}" exec "$id" true)")
done
echo "exec C true: median $(median "${times[@]}") ms over $runs runs (min $(printf '%s\n' "${times[@]}" | sort -n | head -1), max $(printf '%s\n' "${times[@]}" | sort -n | tail -1))"
# The same through the hidden OCI runtime command line (no engine, no store).
times=()
for _ in $(seq "$runs"); do
	times+=("$(ms "$strata" runtime --state "$work/run/runtime" exec "$id" true)")
done
echo "runtime exec C true: median $(median "${times[@]}") ms over $runs runs"
