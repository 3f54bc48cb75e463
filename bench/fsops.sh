#!/usr/bin/env bash
# The commands that read or write a container's filesystem, in milliseconds
# (median of RUNS, default 5):
#   commit of a container that wrote 100 MB in 1,000 files;
#   commit and diff after writing one 100 MB file and touching 1,000 small
#   ones (the issue's case: docker 0.86 s / 56 ms, podman 2.06 s / 36 ms);
#   diff of a container with 10,000 changed files;
#   cp of a 100 MB directory (1,000 files) into a container and out of it;
#   export of busybox.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-5}
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$work"
}
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null

# report WHAT TIMES...: one line with the median, min and max.
report() {
	local what=$1
	shift
	echo "$what: median $(median "$@") ms over $# runs (min $(printf '%s\n' "$@" | sort -n | head -1), max $(printf '%s\n' "$@" | sort -n | tail -1))"
}

"${s[@]}" run --name many busybox sh -c \
	'mkdir /data; i=0; while [ $i -lt 1000 ]; do head -c 102400 /dev/urandom > /data/f$i; i=$((i+1)); done'
times=()
for i in $(seq "$runs"); do
	sync
	times+=("$(ms "${s[@]}" commit many "many:$i")")
	"${s[@]}" rmi "many:$i" >/dev/null
done
report "commit, 100 MB in 1,000 files" "${times[@]}"

"${s[@]}" run --name big busybox sh -c \
	'head -c 104857600 /dev/urandom > /big; mkdir /small; i=0; while [ $i -lt 1000 ]; do touch /small/f$i; i=$((i+1)); done'
times=()
difftimes=()
for i in $(seq "$runs"); do
	sync
	times+=("$(ms "${s[@]}" commit big "big:$i")")
	"${s[@]}" rmi "big:$i" >/dev/null
	difftimes+=("$(ms "${s[@]}" diff big)")
done
report "commit, one 100 MB file + 1,000 touched" "${times[@]}"
report "diff, one 100 MB file + 1,000 touched" "${difftimes[@]}"

"${s[@]}" run --name touched busybox sh -c \
	'mkdir /t; cd /t; i=0; while [ $i -lt 10000 ]; do echo $i > f$i; i=$((i+1)); done'
times=()
for _ in $(seq "$runs"); do times+=("$(ms "${s[@]}" diff touched)"); done
report "diff, 10,000 changed files" "${times[@]}"

mkdir "$work/hostdata"
for i in $(seq 0 999); do head -c 102400 /dev/urandom >"$work/hostdata/f$i"; done
"${s[@]}" create --name cp busybox true >/dev/null
intimes=()
outtimes=()
for i in $(seq "$runs"); do
	sync
	intimes+=("$(ms "${s[@]}" cp "$work/hostdata" "cp:/in$i")")
	sync
	outtimes+=("$(ms "${s[@]}" cp "cp:/in$i" "$work/out$i")")
	rm -rf "$work/out$i"
done
report "cp in, 100 MB directory of 1,000 files (stopped container)" "${intimes[@]}"
report "cp out, 100 MB directory of 1,000 files (stopped container)" "${outtimes[@]}"

"${s[@]}" create --name exp busybox true >/dev/null
times=()
for _ in $(seq "$runs"); do times+=("$(ms "${s[@]}" export exp)"); done
report "export of busybox (stopped container)" "${times[@]}"
