#!/usr/bin/env bash
# Container lifecycle at scale: N (default 100) `run -d busybox sleep 1d`
# one after another, then `rm -f` of each (total and per container); then
# the latency of `stats --no-stream` (two readings 250 ms apart, by
# design) and of `top` with those containers' last one running, the
# median of RUNS (default 20).
source "$(dirname "$0")/lib.sh"
n=${N:-100}
runs=${RUNS:-20}
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$work"
}
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
"${s[@]}" run --rm busybox true # warm the page cache

start=$(date +%s%N)
for i in $(seq "$n"); do
	"${s[@]}" run -d --name "c$i" busybox sleep 1d >/dev/null
done
end=$(date +%s%N)
total=$(((end - start) / 1000000))
echo "run -d x $n: ${total} ms total, $((total / n)) ms each"

top=() stats=() statsall=()
for _ in $(seq "$runs"); do
	top+=("$(ms "${s[@]}" top "c$n")")
	stats+=("$(ms "${s[@]}" stats --no-stream "c$n")")
done
for _ in $(seq 3); do
	statsall+=("$(ms "${s[@]}" stats --no-stream)")
done
echo "top (1 container): median $(median "${top[@]}") ms over $runs runs"
echo "stats --no-stream (1 container): median $(median "${stats[@]}") ms over $runs runs (250 ms of it between the two readings)"
echo "stats --no-stream ($n containers): median $(median "${statsall[@]}") ms over 3 runs"

start=$(date +%s%N)
for i in $(seq "$n"); do
	"${s[@]}" rm -f "c$i" >/dev/null
done
end=$(date +%s%N)
total=$(((end - start) / 1000000))
echo "rm -f x $n: ${total} ms total, $((total / n)) ms each"
