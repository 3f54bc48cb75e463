#!/usr/bin/env bash
# Installs what strata's build, tests and demo need on a fresh Debian machine
# that has Go, gcc and git. Idempotent: installs only what is missing.
set -euo pipefail

# busybox-static: the base image (there is no registry to pull one from).
# skopeo, umoci: foreign tools the interop tests check strata's archives with.
# docker-registry: the registry the pull/push tests run on loopback;
# apache2-utils: htpasswd, for its bcrypt password file.
# nftables: the nft CLI the firewall tests read strata's table back with
# (strata itself talks netlink); tmux: the test that types into `run -it`
# as a person would; debootstrap: the Debian base of the apt-get build test
# (made once, cached in /var/cache/strata-test).
packages=(busybox-static skopeo umoci docker-registry apache2-utils nftables tmux debootstrap)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
go mod download
