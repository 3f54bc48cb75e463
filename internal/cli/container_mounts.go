package cli

import (
	"github.com/spf13/pflag"

	"github.com/strata-containers/strata/internal/engine"
)

// mountFlags are the mount flags of create and run: -v, --mount, --tmpfs,
// --volumes-from. -v values are parsed by the engine at creation, as
// docker's daemon parses Binds; --mount and --tmpfs are parsed as they are
// set, so a bad one is a usage error (exit 125) naming the flag.
type mountFlags struct {
	volumes, volumesFrom listFlag
	mounts               mountListFlag
	tmpfs                tmpfsFlag
}

func (f *mountFlags) register(fl *pflag.FlagSet) {
	fl.VarP(&f.volumes, "volume", "v", "Bind mount a volume")
	fl.Var(&f.mounts, "mount", "Attach a filesystem mount to the container")
	fl.Var(&f.tmpfs, "tmpfs", "Mount a tmpfs directory")
	fl.Var(&f.volumesFrom, "volumes-from", "Mount volumes from the specified container(s)")
}

func (f *mountFlags) options() engine.MountOptions {
	return engine.MountOptions{
		Binds: f.volumes.values, Mounts: f.mounts.mounts, Tmpfs: f.tmpfs.paths, VolumesFrom: f.volumesFrom.values,
	}
}

// mountListFlag is a repeatable --mount.
type mountListFlag struct {
	listFlag
	mounts []engine.Mount
}

func (f *mountListFlag) Type() string { return "mount" }
func (f *mountListFlag) Set(s string) error {
	m, err := engine.ParseMount(s)
	if err != nil {
		return err
	}
	f.mounts = append(f.mounts, m)
	return f.listFlag.Set(s)
}

// tmpfsFlag is a repeatable --tmpfs PATH[:OPTIONS].
type tmpfsFlag struct {
	listFlag
	paths map[string]string
}

func (f *tmpfsFlag) Set(s string) error {
	dst, opts, err := engine.ParseTmpfs(s)
	if err != nil {
		return err
	}
	if f.paths == nil {
		f.paths = map[string]string{}
	}
	f.paths[dst] = opts
	return f.listFlag.Set(s)
}
