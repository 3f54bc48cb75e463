# Shared by the bench scripts: build strata once, keep work in a temp dir that
# is removed on exit, and time commands in milliseconds.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
go build -o bin/strata ./cmd/strata
go build -ldflags "-s -w" -o bin/strata-monitor ./cmd/strata-monitor # found next to strata
strata="$repo/bin/strata"
work=$(mktemp -d "${BENCH_TMP:-/var/tmp}"/strata-bench.XXXXXX) # BENCH_TMP=/dev/shm: no disk noise
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# ms CMD...: runs CMD and prints its wall time in milliseconds.
ms() {
	local start end
	start=$(date +%s%N)
	"$@" >/dev/null
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}

# median N...: prints the median of its arguments.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
