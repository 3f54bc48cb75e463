package build

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/strata-containers/strata/internal/errdefs"
)

// ExitError is a RUN step whose command failed.
type ExitError struct {
	Command string
	Code    int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("The command '%s' returned a non-zero code: %d", e.Command, e.Code)
}

// dispatchRun runs a RUN step in a container over the current state and
// commits what it changed as a layer.
func (b *builder) dispatchRun(ctx context.Context, st *state, c *instructions.RunCommand) error {
	argv, err := runArgs(st, c)
	if err != nil {
		return err
	}
	createdBy := strings.Join(argv, " ")
	if args := st.args.env(); len(args) > 0 {
		// Classic builder: the args in effect prefix the RUN's history.
		createdBy = fmt.Sprintf("|%d %s %s", len(args), strings.Join(args, " "), createdBy)
	}
	env := st.runEnv(b.opts.BuildArgs)
	cfg := st.cfg.Config
	network := b.opts.Network
	switch n := instructions.GetNetwork(c); n {
	case instructions.NetworkHost, instructions.NetworkNone:
		network = n // RUN --network overrides the build's
	}
	if sec := instructions.GetSecurity(c); sec == "insecure" {
		return errdefs.Invalid("RUN --security=insecure is not supported")
	}
	mounts, mountKey, release, err := b.runMounts(ctx, st, c)
	if err != nil {
		return err
	}
	defer release()
	key := stepKey(st, fmt.Sprintf("RUN %q env=%q user=%q wd=%q net=%q mounts=%q", argv, env, cfg.User, cfg.WorkingDir, network, mountKey))
	if b.cached(ctx, st, key) {
		return nil
	}
	scratch, err := b.be.Scratch(ctx, st.chain)
	if err != nil {
		return err
	}
	defer scratch.Release(context.WithoutCancel(ctx))
	var cid string
	code, err := scratch.Run(ctx, RunSpec{
		Args: argv, Env: env, WorkingDir: cfg.WorkingDir, User: cfg.User, Network: network, Output: b.out, Mounts: mounts,
		Started: func(id string) { cid = id; b.printf(" ---> Running in %s\n", shortID12(id)) },
	})
	if err != nil {
		return err
	}
	if code != 0 {
		return &ExitError{Command: strings.Join(argv, " "), Code: code}
	}
	l, err := scratch.Commit(ctx, b.opts.SourceDateEpoch)
	if err != nil {
		return err
	}
	if cid != "" {
		b.printf("Removing intermediate container %s\n", shortID12(cid))
	}
	b.record(st, key, createdBy, &l)
	return nil
}

func shortID12(id string) string {
	if _, hex, ok := strings.Cut(id, "-"); ok {
		id = hex
	}
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// runArgs is the argv of a RUN: the exec form as it is, the shell form in
// the image's SHELL. A here-document that is the whole command runs as the
// shell's script; other here-documents are left to the shell, as
// BuildKit does.
func runArgs(st *state, c *instructions.RunCommand) ([]string, error) {
	if !c.PrependShell {
		return slices.Clone(c.CmdLine), nil
	}
	cmdline := strings.Join(c.CmdLine, " ")
	if len(c.Files) > 0 {
		if h := parser.MustParseHeredoc(cmdline); h != nil && len(c.Files) == 1 {
			cmdline = c.Files[0].Data
		} else {
			for _, f := range c.Files {
				cmdline += "\n" + f.Data + f.Name
			}
		}
	}
	return append(shellOf(&st.cfg.Config), cmdline), nil
}
