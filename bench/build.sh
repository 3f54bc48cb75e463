#!/usr/bin/env bash
# `strata build` of a 10-step Dockerfile (FROM busybox, COPY of a 5,000-file
# tree, RUN and metadata steps): cold (empty cache), fully cached, and after
# changing one copied file. Medians of RUNS (default 5) in milliseconds.
# The same with `podman build` and `buildah bud` (runc, overlay, their own
# temporary stores) when they are installed (Debian: podman buildah runc).
# RUN steps use strata's default network, the bridge (NETWORK=none|host to
# change it; a throwaway store makes and removes its bridge every build).
# BASELINE=/path/to/other/strata interleaves its cold builds with this
# build's (on a busy machine only interleaved runs compare).
# ONLY_STRATA=1 skips podman and buildah.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-5}
s=("$strata" --root "$work/root" --runroot "$work/run")
net=(${NETWORK:+--network "$NETWORK"})
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
# measure NAME COLD-CMD... -- BUILD-CMD...: cold, cached and changed times.
measure() {
	local name=$1 cold=() cached=() changed=() coldcmd=() buildcmd=()
	shift
	while [ "$1" != -- ]; do coldcmd+=("$1"); shift; done
	shift
	buildcmd=("$@")
	for i in $(seq "$runs"); do
		${prep:-true}
		cold+=("$(ms "${coldcmd[@]}")")
		cached+=("$(ms "${buildcmd[@]}")")
		echo "change $name $i" >"$ctx/tree/d7/f7"
		changed+=("$(ms "${buildcmd[@]}")")
	done
	echo "$name, 10 steps, COPY of 5000 files, 5 RUN: cold $(median "${cold[@]}") ms, cached $(median "${cached[@]}") ms, one file changed $(median "${changed[@]}") ms (medians of $runs)"
}
# The issue's reference case: FROM busybox and 5 RUN steps only.
printf 'FROM busybox\nRUN echo 1 > /1\nRUN echo 2 > /2\nRUN echo 3 > /3\nRUN echo 4 > /4\nRUN echo 5 > /5\n' >"$work/Dockerfile.run"
runcold=() runcached=()
for i in $(seq "$runs"); do
	runcold+=("$(ms "${s[@]}" build --no-cache -f "$work/Dockerfile.run" "$ctx")")
	runcached+=("$(ms "${s[@]}" build -f "$work/Dockerfile.run" "$ctx")")
done
echo "strata build, FROM busybox + 5 RUN: cold $(median "${runcold[@]}") ms, cached $(median "${runcached[@]}") ms (medians of $runs)"
# Cold: the cache and the layers it kept are gone (pruned before timing).
prune() { "${s[@]}" builder prune -f >/dev/null; }
prep=prune measure "strata build" "${s[@]}" build "${net[@]}" -t bench "$ctx" -- "${s[@]}" build "${net[@]}" -t bench "$ctx"
measure "strata build --no-cache" "${s[@]}" build "${net[@]}" --no-cache -t bench "$ctx" -- "${s[@]}" build "${net[@]}" -t bench "$ctx"
if [[ -n ${BASELINE:-} ]]; then
	b=("$BASELINE" --root "$work/base-root" --runroot "$work/base-run")
	go run ./hack/mkbusybox | "${b[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
	this=() base=()
	for i in $(seq "$runs"); do
		"${s[@]}" builder prune -f >/dev/null
		this+=("$(ms "${s[@]}" build "${net[@]}" -t bench "$ctx")")
		"${b[@]}" builder prune -f >/dev/null
		base+=("$(ms "${b[@]}" build "${net[@]}" -t bench "$ctx")")
	done
	echo "cold, interleaved: this build $(median "${this[@]}") ms, $BASELINE $(median "${base[@]}") ms (medians of $runs; load $(cut -d' ' -f1-3 /proc/loadavg))"
fi
if [[ -z ${ONLY_STRATA:-} ]] && command -v podman >/dev/null && command -v runc >/dev/null; then
	p=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay --runtime runc)
	go run ./hack/mkbusybox >"$work/busybox.tar"
	"${p[@]}" import "$work/busybox.tar" busybox:latest >/dev/null
	measure "podman build" "${p[@]}" build --network none --no-cache -t bench "$ctx" -- "${p[@]}" build --network none -t bench "$ctx"
	if command -v buildah >/dev/null; then
		b=(buildah --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay)
		measure "buildah bud" "${b[@]}" bud --layers --runtime runc --network none --no-cache -t bench "$ctx" -- "${b[@]}" bud --layers --runtime runc --network none -t bench "$ctx"
	fi
	"${p[@]}" system reset -f >/dev/null 2>&1 || true
fi
