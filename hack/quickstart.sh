#!/usr/bin/env bash
# Quick start: install what is needed, build strata, make a busybox image
# with strata's own import, show it moving through save and load, then run
# containers: in the foreground and background, with exec, a volume, a user
# network with a published port, and an image built from a Dockerfile.
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

echo "==> build an image from a Dockerfile (a second build is all cache)"
ctx=$(mktemp -d)
trap 'rm -f "$archive"; rm -rf "$ctx"' EXIT
mkdir "$ctx/www"
echo "hello from a strata network" >"$ctx/www/index.html"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox
COPY www /www
RUN echo "built at step 3" > /www/built.txt
EXPOSE 80
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
DOCKERFILE
strata build -t demo-web "$ctx"
strata build -q -t demo-web "$ctx"

echo "==> a user network, a published port, a volume and exec"
strata rm -f demo-web demo-client >/dev/null 2>&1 || true
strata network rm demo-net >/dev/null 2>&1 || true
strata network create demo-net
strata volume create demo-data
strata run -d --name demo-web --network demo-net -p 127.0.0.1:8080:80 -v demo-data:/data demo-web
strata port demo-web
strata exec demo-web sh -c 'echo kept in a volume > /data/note; ps'
strata run --rm --network demo-net busybox sh -c 'nc demo-web 80 <<EOF
GET /index.html HTTP/1.0

EOF'
busybox wget -qO- http://127.0.0.1:8080/built.txt   # the published port, from the host
strata run --rm -v demo-data:/data busybox cat /data/note
strata rm -f demo-web
strata network rm demo-net
strata volume rm demo-data
strata rmi demo-web
