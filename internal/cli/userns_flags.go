package cli

import (
	"github.com/spf13/pflag"

	"github.com/strata-containers/strata/internal/engine"
)

// usernsFlags are run/create's user namespace flags.
type usernsFlags struct {
	mode, remap string
}

func (f *usernsFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.mode, "userns", "", `User namespace to use ("host" disables --userns-remap)`)
	fl.StringVar(&f.remap, "userns-remap", "",
		`Map the container's root to a host range: "default", <user>[:<group>] (from /etc/subuid, /etc/subgid) or <host id>:<size>`)
}

func (f *usernsFlags) options() engine.UsernsOptions {
	return engine.UsernsOptions{Mode: f.mode, Remap: f.remap}
}
