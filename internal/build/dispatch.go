package build

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

// nop prefixes the history of metadata steps, as Docker's classic builder
// writes it.
const nop = "/bin/sh -c #(nop)  "

// dispatch runs one instruction over st.
func (b *builder) dispatch(ctx context.Context, st *state, cmd instructions.Command, later map[string]bool) error {
	if a, ok := cmd.(*instructions.ArgCommand); ok {
		return b.dispatchArg(ctx, st, a)
	}
	if err := b.expandCommand(st, cmd, later); err != nil {
		return err
	}
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		return b.dispatchRun(ctx, st, c)
	case *instructions.CopyCommand:
		return b.dispatchCopy(ctx, st, copyFromCopy(c))
	case *instructions.AddCommand:
		return b.dispatchCopy(ctx, st, copyFromAdd(c))
	}
	cmdBefore := st.cfg.Config.Cmd
	desc, err := applyMeta(&st.cfg.Config, cmd)
	if err != nil {
		return err
	}
	switch cmd.(type) {
	case *instructions.CmdCommand:
		st.cmdSet = true
	case *instructions.EntrypointCommand:
		if st.cmdSet {
			st.cfg.Config.Cmd = cmdBefore // only the base image's CMD is reset
		}
	}
	key := stepKey(st, desc)
	if !b.cached(ctx, st, key) {
		b.record(st, key, nop+desc, nil)
	}
	return nil
}

func (b *builder) dispatchArg(ctx context.Context, st *state, a *instructions.ArgCommand) error {
	var parts []string
	for _, kv := range a.Args {
		v, err := b.argValue(kv, st.expansionEnv(), b.meta)
		if err != nil {
			return err
		}
		st.args.set(kv.Key, v)
		parts = append(parts, kv.String())
	}
	desc := "ARG " + strings.Join(parts, " ")
	key := stepKey(st, desc)
	if !b.cached(ctx, st, key) {
		b.record(st, key, nop+desc, nil)
	}
	return nil
}

// applyMeta applies a metadata-only instruction to the config and returns
// its description for the history and the cache key.
func applyMeta(cfg *dockerspec.DockerOCIImageConfig, cmd instructions.Command) (string, error) {
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		var parts []string
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return "ENV " + strings.Join(parts, " "), nil
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		var parts []string
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return "LABEL " + strings.Join(parts, " "), nil
	case *instructions.MaintainerCommand:
		return "MAINTAINER " + c.Maintainer, nil
	case *instructions.CmdCommand:
		cfg.Cmd = withShell(cfg, c.ShellDependantCmdLine)
		return "CMD " + jsonList(cfg.Cmd), nil
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = withShell(cfg, c.ShellDependantCmdLine)
		cfg.Cmd = nil // the base image's CMD goes with its ENTRYPOINT
		return "ENTRYPOINT " + jsonList(cfg.Entrypoint), nil
	case *instructions.WorkdirCommand:
		cfg.WorkingDir = workdir(cfg.WorkingDir, c.Path)
		return "WORKDIR " + cfg.WorkingDir, nil
	case *instructions.UserCommand:
		cfg.User = c.User
		return "USER " + c.User, nil
	}
	return applyMoreMeta(cfg, cmd)
}

func applyMoreMeta(cfg *dockerspec.DockerOCIImageConfig, cmd instructions.Command) (string, error) {
	switch c := cmd.(type) {
	case *instructions.ExposeCommand:
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range c.Ports {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			cfg.ExposedPorts[p] = struct{}{}
		}
		return "EXPOSE " + strings.Join(c.Ports, " "), nil
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			if v == "" {
				return "", errdefs.Invalid("VOLUME specified can not be an empty string")
			}
			cfg.Volumes[v] = struct{}{}
		}
		return "VOLUME " + jsonList(c.Volumes), nil
	case *instructions.StopSignalCommand:
		cfg.StopSignal = c.Signal
		return "STOPSIGNAL " + c.Signal, nil
	case *instructions.HealthCheckCommand:
		cfg.Healthcheck = c.Health
		data, _ := json.Marshal(c.Health)
		return "HEALTHCHECK " + string(data), nil
	case *instructions.ShellCommand:
		cfg.Shell = c.Shell
		return "SHELL " + jsonList(c.Shell), nil
	case *instructions.OnbuildCommand:
		cfg.OnBuild = append(cfg.OnBuild, c.Expression)
		return "ONBUILD " + c.Expression, nil
	}
	return "", errdefs.Invalid("unsupported instruction %s", strings.ToUpper(cmd.Name()))
}

// withShell turns a command line into argv: the shell form runs in the
// image's SHELL (/bin/sh -c by default).
func withShell(cfg *dockerspec.DockerOCIImageConfig, c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return append([]string{}, c.CmdLine...)
	}
	return append(shellOf(cfg), strings.Join(c.CmdLine, " "))
}

func shellOf(cfg *dockerspec.DockerOCIImageConfig) []string {
	if len(cfg.Shell) > 0 {
		return append([]string{}, cfg.Shell...)
	}
	return []string{"/bin/sh", "-c"}
}

func jsonList(l []string) string {
	data, _ := json.Marshal(l)
	return string(data)
}

func workdir(cur, p string) string {
	if !path.IsAbs(p) {
		if cur == "" {
			cur = "/"
		}
		p = path.Join(cur, p)
	}
	return path.Clean(p)
}

// setEnv sets k in env, in place when present.
func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); name == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, fmt.Sprintf("%s=%s", k, v))
}
