#!/usr/bin/env bash
# Unpack speed of one layer: GNU tar (-xf, -xzf, --zstd -xf) against strata's
# archive.Decompress + archive.Apply (BenchmarkApply{Tar,Gzip,Zstd}) on the
# very same files. The layer comes from layergen: ~SIZE MB (default 200) of
# large incompressible files and many small text files. Prints MB/s of
# uncompressed tar, the median of RUNS (default 3) runs each.
#
# DEST picks where to unpack (default /var/tmp, the disk; /dev/shm measures
# the unpackers without the disk). The two tools take turns, each run into a
# new directory after a sync, and nothing is deleted until the end: ext4
# skips recently deleted inodes when it allocates new ones, which makes any
# unpack soon after a big rm -rf (anyone's) several times slower. Disk
# numbers on a shared machine stay noisy; compare tools within one run.
# Needs gzip and zstd (Debian packages).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
size=${SIZE:-200}
runs=${RUNS:-3}
dest=${DEST:-/var/tmp}
work=$(mktemp -d /var/tmp/strata-unpack.XXXXXX)
out=$(mktemp -d "$dest/strata-unpack-out.XXXXXX")
trap 'rm -rf "$work" "$out"' EXIT

go run ./internal/archive/internal/genlayer -size "$size" -o "$work/layer.tar"
gzip -k -6 "$work/layer.tar"
zstd -q -k -3 "$work/layer.tar"
go test -c -o "$work/archive.test" ./internal/archive/
bytes=$(stat -c %s "$work/layer.tar")
printf 'layer: %d MB tar, %d MB gzip, %d MB zstd; unpacking into %s\n' "$((bytes / 1000000))" \
	"$(($(stat -c %s "$work/layer.tar.gz") / 1000000))" "$(($(stat -c %s "$work/layer.tar.zst") / 1000000))" "$dest"

# median N...: prints the median of its arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# gnutar DIR ARGS...: prints the milliseconds of `tar -C DIR ARGS`.
gnutar() {
	local dir=$1 start end
	shift
	mkdir "$dir" && sync
	start=$(date +%s%N)
	tar -C "$dir" "$@"
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}

# strata DIR NAME: prints the milliseconds of one BenchmarkApplyNAME run
# (decompress + apply; its mkdir and sync are outside the timer).
strata() {
	mkdir "$1"
	STRATA_BENCH_LAYER="$work/layer.tar" STRATA_BENCH_DIR="$1" \
		"$work/archive.test" -test.run '^$' -test.bench "^BenchmarkApply$2\$" -test.benchtime 1x |
		awk '/^BenchmarkApply/ { printf "%d\n", $3 / 1e6 }'
}

report() {
	awk -v ms="$(median "${@:2}")" -v b="$bytes" -v l="$1" \
		'BEGIN { printf "%-22s %6.0f MB/s  (median %d ms)\n", l, b / 1e6 / (ms / 1000), ms }'
}

declare -A gnu=([Tar]="-xf layer.tar" [Gzip]="-xzf layer.tar.gz" [Zstd]="--zstd -xf layer.tar.zst")
for format in Tar Gzip Zstd; do
	g=() s=()
	read -r -a args <<<"${gnu[$format]}"
	args[-1]="$work/${args[-1]}"
	for i in $(seq "$runs"); do
		g+=("$(gnutar "$out/gnu-$format-$i" "${args[@]}")")
		s+=("$(strata "$out/strata-$format-$i" "$format")")
	done
	report "tar ${gnu[$format]% *}" "${g[@]}"
	report "strata ($format)" "${s[@]}"
done
