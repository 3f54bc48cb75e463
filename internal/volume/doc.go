// Package volume owns strata's volumes: named and anonymous directories,
// kept outside any container's writable layer, that containers mount and
// that outlive them. Only the "local" driver exists, as docker's: a volume
// is a directory on the host, or, when created with --opt type=...,
// device=..., o=..., a file system mounted on that directory when a
// container first uses it.
//
// On disk, under the store's root (<root>/volumes):
//
//	volumes.lock                   the store lock (see below)
//	<name>/meta.json               name, driver, labels, options, creation time
//	<name>/_data/                  the volume's content (a mount point for
//	                               --opt volumes)
//	.tmp-<name>-<random>/          a volume being created (or removed)
//
// Invariants:
//   - A volume exists exactly when <name>/meta.json does. Creation builds the
//     whole directory (meta.json and _data) under a temporary name and renames
//     it into place, so a kill -9 leaves either a complete volume or a
//     temporary directory, which the next exclusive holder of the lock sweeps.
//     Removal renames the directory to a temporary name first, for the same
//     reason.
//   - Creation is idempotent: when two creators race for one name, the rename
//     of the loser fails, it discards its copy and returns the winner's
//     volume, so both succeed and one volume exists.
//   - Creators hold the lock shared, removers exclusively. "In use" is not a
//     counter kept here, which a crash could leave wrong: the caller derives
//     it from the container records (a record naming the volume uses it),
//     and Remove asks for it while it holds the lock exclusively. A
//     container's record is written before its volumes are created (Path
//     says where a volume will be), so a volume never exists unprotected
//     for a container, and a failed container creation leaves none behind.
package volume
