#!/usr/bin/env bash
# The OCI runtime-tools validation suite against `strata runtime`, through
# the runc-compatible front hack/strata-runc. Needs root. Prints each test's
# TAP summary and the total pass count.
#
# runtime-tools is fetched as a Go module (its latest release predates Go
# modules, so it gets a go.mod here with the dependency versions its Godeps
# pinned, where newer ones no longer compile), then built as its Makefile
# does: runtimetest (static, copied into each bundle) and one executable per
# validation/*/*.go. TESTS (default: all) picks tests by name, e.g.
# TESTS="create state kill".
source "$(dirname "$0")/lib.sh"

# Tests that fail half-way leave containers behind: remove them too.
cleanup() {
	for d in "$work"/state/*/; do
		[ -d "$d" ] && "$strata" runtime --state "$work/state" delete --force "$(basename "$d")" >/dev/null 2>&1
	done
	# The suite's cgroupsPath tests make /strata/testdir/cgrouptest and
	# leave it: remove it (empty by now) from every hierarchy.
	for h in /sys/fs/cgroup/*/strata /sys/fs/cgroup/strata; do
		rmdir "$h/testdir/cgrouptest" "$h/testdir" 2>/dev/null || true
	done
	rm -rf "$work"
}

src=$(GOFLAGS=-mod=mod go mod download -json github.com/opencontainers/runtime-tools@latest |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
cp -r "$src" "$work/rt"
chmod -R u+w "$work/rt"
cd "$work/rt"
cat >go.mod <<'MOD'
module github.com/opencontainers/runtime-tools

go 1.22

require (
	github.com/blang/semver v3.5.1+incompatible
	github.com/hashicorp/go-multierror v1.1.1
	github.com/mndrix/tap-go v0.0.0-20171203230836-629fa407e90b
	github.com/mrunalp/fileutils v0.5.1
	github.com/opencontainers/runtime-spec v1.0.2
	github.com/opencontainers/selinux v1.3.0
	github.com/satori/go.uuid v1.2.0
	github.com/sirupsen/logrus v1.10.2
	github.com/stretchr/testify v1.12.1
	github.com/syndtr/gocapability v0.0.0-20200815063812-42c35b437635
	github.com/urfave/cli v1.22.17
	github.com/xeipuuv/gojsonschema v1.2.0
	golang.org/x/sys v0.49.0
)
MOD
GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1
export GOFLAGS=-mod=mod
CGO_ENABLED=0 go build -o runtimetest ./cmd/runtimetest

tests=${TESTS:-$(cd validation && ls -d */ | tr -d / | grep -v '^util$')}
for t in $tests; do
	go build -o "$t.t" "./validation/$t/"
done

# RUNTIME is one command: a shim puts the runtime's state in the work dir.
cat >"$work/runtime" <<SHIM
#!/bin/sh
STRATA="$strata" exec "$repo/hack/strata-runc" --root "$work/state" "\$@"
SHIM
chmod +x "$work/runtime"

pass=0 fail=0 skip=0
for t in $tests; do
	out=$(RUNTIME="$work/runtime" timeout 300 "./$t.t" 2>"$work/$t.err" || true)
	echo "$out" >"$work/$t.tap"
	p=$(grep -c '^ok' <<<"$out" || true)
	f=$(grep -c '^not ok' <<<"$out" || true)
	s=$(grep -c '^ok.*# *SKIP' <<<"$out" || true)
	pass=$((pass + p - s)) fail=$((fail + f)) skip=$((skip + s))
	printf '%-40s pass %3d fail %3d skip %3d\n' "$t" "$((p - s))" "$f" "$s"
	if [ -n "${VERBOSE:-}" ]; then grep -A8 "^not ok" <<<"$out" || true; head -3 "$work/$t.err"; fi
done
echo "runtime-tools validation: $pass of $((pass + fail)) assertions pass ($skip skipped)"
