#!/usr/bin/env bash
# `strata load` of a 4-layer, 400 MB docker-archive (three 100 MB incompressible
# layers and one 100 MB text layer) into an empty store, including unpacking.
# Prints the median of RUNS (default 3) in seconds and MB/s.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}
go run ./hack/mkimage -tag bench:400 -layer random:100M -layer random:100M -layer random:100M \
	-layer text:100M >"$work/image.tar"
bytes=$(stat -c %s "$work/image.tar")
times=()
for i in $(seq "$runs"); do
	root="$work/root$i"
	sync
	times+=("$(ms "$strata" --root "$root" load -i "$work/image.tar")")
	rm -rf "$root"
done
m=$(median "${times[@]}")
awk -v ms="$m" -v b="$bytes" 'BEGIN { printf "load of %.0f MB docker-archive: %.2f s, %.0f MB/s (median of %d: %s ms)\n", b/1e6, ms/1000, b/1e6/(ms/1000), '"$runs"', "'"${times[*]}"'" }'
