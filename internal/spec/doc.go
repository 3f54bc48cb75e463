// Package spec builds the OCI runtime spec of a container from its image's
// config and the run options, with Docker's defaults: the namespaces, the
// default capability set, the mounts, masked and read-only paths and device
// rules that `docker run` gives a container (moby's oci.DefaultSpec).
//
// Generation is pure: Generate starts from Default and applies composable
// Opt values (WithImage, WithProcess, WithCapabilities, WithResources, ...)
// in order, each a small transform of the spec, as containerd's spec opts
// are. The only I/O is ResolveUser, which reads /etc/passwd and /etc/group
// of a mounted rootfs without following a link out of it.
//
// WithLimits (limits.go) adds what `run` takes beyond WithResources:
// rlimits (--ulimit; a hard limit above this process's own is refused
// without CAP_SYS_RESOURCE), cpuset, memory+swap and reservation, block I/O
// weight, and the --init annotation (InitAnnotation) the runtime reads.
//
// Invariants: the result always has Process, Root ("rootfs", relative to
// the bundle), Linux and Linux.Resources set; an invalid option value is an
// errdefs.ErrInvalid error worded as docker's CLI words it.
package spec
