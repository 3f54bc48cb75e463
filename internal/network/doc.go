// Package network owns containers' networking: the network records (the
// predefined bridge, host and none, and user-defined bridge networks),
// network namespaces, bridges and veth pairs (netlink), address
// allocation (package ipam), strata's nftables rules (package firewall),
// published ports, the embedded DNS server of user networks (package dns,
// run as a process of its own) and the /etc/hosts, /etc/resolv.conf and
// /etc/hostname that containers get.
//
// On disk, under the root given to NewManager (<root>/networks):
//
//	lock                    creation and removal of records, port choice
//	firewall.lock           serialises changes to strata's nftables table
//	<network-id>/network.json   the Network record (atomicfile)
//	<network-id>/ipam.json      addresses handed out, with their holders (ipam)
//	<network-id>/ipam6.json     the same for IPv6 (--ipv6)
//	<network-id>/lock           orders making/removing the bridge against attaching
//	<network-id>/dns-<ifindex>.lock  held by the network's DNS server
//	connections/<container-id>.json  network connect/disconnect of a container
//
// and /run/strata-bridges.lock, shared by every store of the host: held
// while a bridge is made, after checking that its subnet is free.
//
// Under the run root, state that dies with the machine:
//
//	netns/<container-id>           the container's namespace, a bind mount
//	networks/<container-id>.json   the container's State: endpoints, ports
//
// A bridge container gets, in Setup: a namespace made by the engine before
// the runtime starts the init (which joins it by path), one veth per
// network whose container end is created straight in the namespace and
// configured through a netlink socket opened there (no thread enters it),
// an address from the network's IPAM, the default route on its first
// network, and its published ports as DNAT rules.
//
// Invariants:
//   - an address is held by at most one container (ipam's lock); a
//     container's State file exists from before its first allocation until
//     after its last release, so Sweep never frees an address being
//     handed out;
//   - every nftables rule of strata is in `table inet strata` and names
//     its store and owner; it is removed with its owner and by Sweep when
//     its owner is gone; nothing outside that table is touched;
//   - Teardown is idempotent and is called before every Setup (a restart, a
//     crash half way).
//
// A container's network lives from its start to its stop: the engine
// tears it down when the container's monitor reports the end (the hidden
// `network release`), not only at removal; a restart policy's runs share
// one namespace. hosts.go holds docker's smaller options: --expose,
// --add-host's host-gateway and the hosts lines of --link.
//
// Bridges of user networks stay until their network is removed (docker's
// behaviour); the default network's bridge (strata0 for /var/lib/strata)
// too, except in a throwaway store (Manager.EphemeralDefaultBridge), where
// it goes with its last container. Veths are not deleted one by one: they
// go when the kernel destroys the namespace, after Teardown unmounts it,
// which keeps an RCU grace period off the `run --rm` path. IPv4
// forwarding is switched on when the first non-internal bridge is made
// (and never off), and route_localnet on strata's bridges only, so that
// published ports answer on 127.0.0.1.
package network
