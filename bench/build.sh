#!/usr/bin/env bash
# `strata build` of a 10-step Dockerfile (FROM busybox, COPY of a 5,000-file
# tree, RUN and metadata steps): cold (empty cache), fully cached, and after
# changing one copied file. Medians of RUNS (default 5) in milliseconds.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-5}
s=("$strata" --root "$work/root" --runroot "$work/run")
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
ctx="$work/ctx"
mkdir -p "$ctx/tree"
for d in $(seq 0 49); do
	mkdir -p "$ctx/tree/d$d"
	for f in $(seq 0 99); do echo "file $d/$f" >"$ctx/tree/d$d/f$f"; done
done
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
ENV APP=/app
WORKDIR /app
COPY tree /app/tree
RUN echo one > /one
RUN echo two > /two
RUN ls /app/tree | wc -l > /count
RUN echo four > /four
RUN echo five > /five
CMD ["cat", "/count"]
DF
cold=() cached=() changed=()
for i in $(seq "$runs"); do
	"${s[@]}" builder prune -f >/dev/null
	cold+=("$(ms "${s[@]}" build -t bench "$ctx")")
	cached+=("$(ms "${s[@]}" build -t bench "$ctx")")
	echo "change $i" >"$ctx/tree/d7/f7"
	changed+=("$(ms "${s[@]}" build -t bench "$ctx")")
done
echo "build, 10 steps, COPY of 5000 files, 5 RUN: cold $(median "${cold[@]}") ms, cached $(median "${cached[@]}") ms, one file changed $(median "${changed[@]}") ms (medians of $runs)"
