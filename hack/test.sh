#!/usr/bin/env bash
# The whole test suite: formatting, vet, staticcheck, then every Go test
# (as root, so the mount, overlay and ownership tests run rather than skip).
set -euo pipefail
cd "$(dirname "$0")/.."

bash hack/deps.sh

echo "==> gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" $unformatted >&2
	exit 1
fi
echo "==> go vet"
go vet ./...
echo "==> staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "==> go test"
# -p 2: the machine has 2 cores; tests that mount or unpack are I/O-heavy.
go test -count=1 -p 2 -timeout 30m ./... 2>&1 | tee /tmp/strata-test.log
