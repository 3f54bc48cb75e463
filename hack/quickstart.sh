#!/usr/bin/env bash
# Quick start: install what is needed, build strata, make a busybox image
# with strata's own import, and show it moving through save and load.
set -euo pipefail
cd "$(dirname "$0")/.."

bash hack/deps.sh
echo "==> building strata"
go build -o bin/strata ./cmd/strata
# The per-container monitor, small on purpose; strata finds it next to itself.
go build -ldflags "-s -w" -o bin/strata-monitor ./cmd/strata-monitor
install -m 0755 bin/strata bin/strata-monitor /usr/local/bin/

echo "==> making the busybox image from Debian's busybox-static"
go run ./hack/mkbusybox | strata import --change 'CMD ["sh"]' --message "busybox from busybox-static" - busybox:latest
strata tag busybox:latest busybox:demo

echo "==> strata images"
strata images

echo "==> save, remove and load it again"
archive=$(mktemp --suffix=.tar)
trap 'rm -f "$archive"' EXIT
strata save -o "$archive" busybox:latest busybox:demo
strata rmi busybox:latest busybox:demo
strata load -i "$archive"
strata images
strata history busybox
strata system df -v
strata system check

echo "==> run a container"
strata run --rm busybox echo hello from a container

echo "==> a container in the background: run -d, ps, logs, stop, rm"
strata rm -f demo >/dev/null 2>&1 || true
strata run -d --name demo busybox sh -c 'echo started; trap "echo stopping; exit 0" TERM; while true; do sleep 1; done'
strata ps
sleep 1
strata logs demo
strata stop demo
strata ps -a --filter name=demo
strata logs -t demo
strata rm demo
