#!/usr/bin/env bash
# What volumes cost: `run --rm busybox true` without and with a named volume
# (-v vol:/data), and the latency of `volume create` and `volume rm`
# (fresh name each time): medians of RUNS (default 30) in milliseconds.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-30}
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$work"
}
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
"${s[@]}" run --rm -v vol:/data busybox true # warm the page cache, make the volume

report() { # report LABEL TIMES...
	local label=$1
	shift
	echo "$label: median $(median "$@") ms over $# runs (min $(printf '%s\n' "$@" | sort -n | head -1), max $(printf '%s\n' "$@" | sort -n | tail -1))"
}
plain=() withvol=()
for _ in $(seq "$runs"); do # interleaved, so that load on the machine hits both alike
	plain+=("$(ms "${s[@]}" run --rm busybox true)")
	withvol+=("$(ms "${s[@]}" run --rm -v vol:/data busybox true)")
done
report "run --rm busybox true" "${plain[@]}"
report "run --rm -v vol:/data busybox true" "${withvol[@]}"

create=() rm=()
for i in $(seq "$runs"); do
	create+=("$(ms "${s[@]}" volume create "bench$i")")
	rm+=("$(ms "${s[@]}" volume rm "bench$i")")
done
report "volume create" "${create[@]}"
report "volume rm" "${rm[@]}"
