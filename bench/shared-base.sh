#!/usr/bin/env bash
# Disk used by 10 images that share one 100 MB base layer and add 1 MB each:
# with layers stored once it must be ~100 MB + 10 MB, not 1 GB.
source "$(dirname "$0")/lib.sh"
root="$work/root"
for i in $(seq 10); do
	go run ./hack/mkimage -tag "shared:$i" -layer random:100M -layer "random:1M:$((i + 100))" >"$work/img$i.tar"
	"$strata" --root "$root" load -q -i "$work/img$i.tar" >/dev/null
	rm -f "$work/img$i.tar"
done
echo "10 images sharing a 100 MB base (+1 MB each):"
for d in "$root" "$root/layers" "$root/content"; do
	# One du per directory: du counts an inode once per invocation.
	du -sm "$d" | awk -v n="${d#"$work"/}" '{printf "  %-16s %6d MB\n", n, $1}'
done
"$strata" --root "$root" system df
"$strata" --root "$root" system df -v | head -14
