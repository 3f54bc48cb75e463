#!/usr/bin/env bash
# Networking costs and throughput.
#  1. What bridge networking adds to `run --rm busybox true`: medians of RUNS
#     (default 30) runs with the default bridge and with --network none,
#     interleaved so that both see the same machine.
#     And what releasing the network at stop adds to `stop -t 0`.
#  2. TCP throughput container→host over the bridge vs --network host, and
#     host→container through a published port (DNAT), with a static Go
#     client/server built here and put into the image (SIZE MiB, default 512).
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-30}
size=${SIZE:-512}
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	[[ -n ${srv:-} ]] && kill "$srv" 2>/dev/null
	rm -rf "$work"
}

mkdir -p "$work/tcp"
cat >"$work/tcp/main.go" <<'GO'
// tcpbench: "serve ADDR" discards what each connection sends; "send ADDR
// MiB" sends that much and prints MiB/s.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	switch os.Args[1] {
	case "serve":
		l, err := net.Listen("tcp", os.Args[2])
		if err != nil {
			panic(err)
		}
		for {
			c, err := l.Accept()
			if err != nil {
				panic(err)
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	case "send":
		n, _ := strconv.Atoi(os.Args[3])
		var c net.Conn
		var err error
		for i := 0; i < 50; i++ { // the server may still be starting
			if c, err = net.Dial("tcp", os.Args[2]); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			panic(err)
		}
		buf := make([]byte, 1<<20)
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := c.Write(buf); err != nil {
				panic(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
		fmt.Printf("%.0f\n", float64(n)/time.Since(start).Seconds())
	}
}
GO
(cd "$work/tcp" && cat >go.mod <<<'module tcpbench' && CGO_ENABLED=0 go build -o tcpbench .)
go run ./hack/mkbusybox >"$work/rootfs.tar"
mkdir -p "$work/add/usr/local/bin" && cp "$work/tcp/tcpbench" "$work/add/usr/local/bin/"
tar -rf "$work/rootfs.tar" -C "$work/add" ./usr/local/bin/tcpbench
"${s[@]}" import --change 'CMD ["sh"]' "$work/rootfs.tar" busybox:latest >/dev/null

"${s[@]}" run --rm busybox true # warm the page cache, make the bridge's record
# runs LABEL ARGS...: medians of `run --rm ARGS busybox true` with the default
# bridge and with --network none, interleaved.
runs() {
	local label=$1 bridge=() none=()
	shift
	for _ in $(seq "$runs"); do
		bridge+=("$(ms "${s[@]}" run --rm "$@" busybox true)")
		none+=("$(ms "${s[@]}" run --rm --network none busybox true)")
	done
	local b n
	b=$(median "${bridge[@]}") n=$(median "${none[@]}")
	echo "run --rm busybox true, $label: bridge median $b ms, --network none median $n ms over $runs runs each: bridge adds $((b - n)) ms"
}
# A throwaway root's default bridge goes with its last container: each run
# makes and removes the bridge and its rules.
runs "bridge made and removed by each run (throwaway root)"
# The steady state of the default root, where strata0 stays (as docker0):
# a running container keeps this root's bridge.
holder=$("${s[@]}" run -d busybox sleep 3600)
runs "bridge present (strata0's steady state)"
runs "bridge present, -p 8080:80" -p 18080:80
# What the release of a stopped container's network (the monitor's
# `network release`) adds to `stop -t 0`, against --network none.
stops() {
	local b n bridge=() none=()
	b=$("${s[@]}" run -d -p 18081:80 busybox sleep 3600) n=$("${s[@]}" run -d --network none busybox sleep 3600)
	for _ in $(seq "$runs"); do
		bridge+=("$(ms "${s[@]}" stop -t 0 "$b")")
		none+=("$(ms "${s[@]}" stop -t 0 "$n")")
		"${s[@]}" start "$b" "$n" >/dev/null
	done
	"${s[@]}" rm -f "$b" "$n" >/dev/null
	b=$(median "${bridge[@]}") n=$(median "${none[@]}")
	echo "stop -t 0: bridge with -p median $b ms, --network none median $n ms over $runs runs each: the release adds $((b - n)) ms"
}
stops
"${s[@]}" rm -f "$holder" >/dev/null

# Container → host: the server listens on the host; over the bridge the
# container reaches it at the bridge's gateway address.
"$work/tcp/tcpbench" serve 0.0.0.0:15201 &
srv=$!
gw=$("${s[@]}" network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' bridge)
over_bridge=$("${s[@]}" run --rm busybox tcpbench send "$gw:15201" "$size")
over_host=$("${s[@]}" run --rm --network host busybox tcpbench send 127.0.0.1:15201 "$size")
echo "TCP container→host, $size MiB: bridge $over_bridge MiB/s, --network host $over_host MiB/s"
kill "$srv" && wait "$srv" 2>/dev/null || true
srv=

# Host → container through a published port (nftables DNAT, localhost path).
id=$("${s[@]}" run -d -p 15202:15202 busybox tcpbench serve 0.0.0.0:15202)
published=$("$work/tcp/tcpbench" send 127.0.0.1:15202 "$size")
hostip=$(ip -4 -o route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
via_hostip=$("$work/tcp/tcpbench" send "$hostip:15202" "$size")
echo "TCP host→container through a published port, $size MiB: 127.0.0.1 $published MiB/s, $hostip $via_hostip MiB/s"
"${s[@]}" rm -f "$id" >/dev/null
