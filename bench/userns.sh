#!/usr/bin/env bash
# `strata run --rm busybox true` with and without --userns-remap
# 100000:65536, interleaved (a busy machine only compares interleaved runs):
# the medians of RUNS (default 20) in milliseconds. A remapped run adds a
# user namespace made to idmap the image layers (one per mount, whatever
# the image's depth) and the shift of the writable layer's two directories;
# nothing is copied, so there is no first-run cost to report.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-20}
chmod 711 "$work" # the remapped root must reach the bundle
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$work"
}
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
"${s[@]}" run --rm busybox true # warm the page cache
"${s[@]}" run --rm --userns-remap 100000:65536 busybox true
plain=() remap=()
for _ in $(seq "$runs"); do
	plain+=("$(ms "${s[@]}" run --rm busybox true)")
	remap+=("$(ms "${s[@]}" run --rm --userns-remap 100000:65536 busybox true)")
done
echo "run --rm busybox true: median $(median "${plain[@]}") ms; with --userns-remap: median $(median "${remap[@]}") ms ($runs runs each, interleaved); load $(cut -d' ' -f1-3 /proc/loadavg)"
