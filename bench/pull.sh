#!/usr/bin/env bash
# Pull, re-pull and push against Debian's docker-registry on loopback.
#  1. `strata pull` of a 4-layer image (three 100 MB incompressible layers and
#     one 100 MB text layer, pushed gzip-compressed by skopeo) into an empty
#     store, unpacking included, against `skopeo copy docker://… oci:dir`
#     (download only) in the same run; MB/s of compressed bytes fetched.
#  2. Re-pull of an image that adds one 10 MB layer on that base: blob bytes
#     the registry served (from its access log) must be the new layer's.
#  3. `strata push` of the loaded (uncompressed) image into an empty registry.
# SIZE (default 100M) scales every layer, for a quick run.
source "$(dirname "$0")/lib.sh"
size=${SIZE:-100M}
command -v docker-registry >/dev/null || { echo "needs docker-registry (hack/deps.sh)" >&2; exit 1; }

# start_registry NAME: starts a registry with storage under $work/NAME, sets
# $addr to its host:port and remembers its pid for the exit trap (it is not
# run in a $(...) subshell, which would lose the pid); the access log goes to
# $work/NAME.log.
start_registry() {
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat >"$work/$1.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/$1
http:
  addr: 127.0.0.1:$port
YML
	docker-registry serve "$work/$1.yml" >"$work/$1.log" 2>&1 &
	pids+=("$!")
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
	addr="127.0.0.1:$port"
}
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; cleanup; }
trap stop EXIT

# blob_bytes LOG: sums the bytes of blob GETs in a registry access log.
blob_bytes() { grep -o '"GET /v2/[^"]*/blobs/sha256:[^"]*" 20[06] [0-9]*' "$1" | awk '{s+=$NF} END {print s+0}'; }

start_registry reg
reg=$addr
go run ./hack/mkimage -tag bench:base -layer random:"$size" -layer random:"$size" -layer random:"$size" \
	-layer text:"$size" >"$work/base.tar"
go run ./hack/mkimage -tag bench:more -layer random:"$size" -layer random:"$size" -layer random:"$size" \
	-layer text:"$size" -layer random:10M:7 >"$work/more.tar"
skopeo copy -q --dest-tls-verify=false docker-archive:"$work/base.tar" "docker://$reg/bench/big:1"
skopeo copy -q --dest-tls-verify=false docker-archive:"$work/more.tar" "docker://$reg/bench/big:2"
fetched=$(skopeo inspect --raw --tls-verify=false "docker://$reg/bench/big:1" |
	python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["config"]["size"]+sum(l["size"] for l in m["layers"]))')

sync
t_strata=$(ms "$strata" --root "$work/root" pull -q "$reg/bench/big:1")
sync
t_skopeo=$(ms skopeo copy -q --src-tls-verify=false "docker://$reg/bench/big:1" "oci:$work/oci:1")
awk -v b="$fetched" -v s="$t_strata" -v k="$t_skopeo" 'BEGIN {
	printf "pull of %.0f MB (4 layers, gzip) into an empty store, unpacked: %.2f s, %.0f MB/s\n", b/1e6, s/1000, b/1e6/(s/1000)
	printf "skopeo copy docker:// oci: (download only, same image):       %.2f s, %.0f MB/s\n", k/1000, b/1e6/(k/1000) }'

before=$(blob_bytes "$work/reg.log")
t_repull=$(ms "$strata" --root "$work/root" pull -q "$reg/bench/big:2")
served=$(($(blob_bytes "$work/reg.log") - before))
echo "re-pull with the base present: $((t_repull)) ms, $served blob bytes served (new 10 MB layer + config)"

start_registry empty
empty=$addr
"$strata" --root "$work/root2" load -q -i "$work/base.tar" >/dev/null
"$strata" --root "$work/root2" tag bench:base "$empty/bench/pushed:1"
t_push=$(ms "$strata" --root "$work/root2" push -q "$empty/bench/pushed:1")
echo "push of the loaded image (uncompressed layers) into an empty registry: $((t_push)) ms"
