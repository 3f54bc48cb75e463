package spec

import (
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Process are the run options that decide what the container runs.
type Process struct {
	// Entrypoint replaces the image's when EntrypointSet (--entrypoint);
	// an empty Entrypoint then clears it, as `--entrypoint ""` does.
	Entrypoint    []string
	EntrypointSet bool
	// Args replace the image's Cmd when not empty.
	Args []string
	// Env entries are KEY=VALUE and override the image's.
	Env        []string
	WorkingDir string
}

// Command resolves the command line as Docker does: the entrypoint (the
// image's unless replaced) followed by the args (the image's Cmd unless
// given). An empty result is an errdefs.ErrInvalid error.
func Command(img dockerspec.DockerOCIImageConfig, p Process) ([]string, error) {
	entrypoint := img.Entrypoint
	if p.EntrypointSet {
		entrypoint = p.Entrypoint
	}
	args := p.Args
	if len(args) == 0 && (len(entrypoint) == 0 || !p.EntrypointSet) {
		// An image's Cmd is the default argument list of its own
		// entrypoint, and the command when the entrypoint is cleared.
		args = img.Cmd
	}
	argv := append(append([]string{}, entrypoint...), args...)
	if len(argv) == 0 {
		return nil, errdefs.Invalid("no command specified")
	}
	return argv, nil
}

// WithImage applies the image's config and the run options: command line,
// environment (PATH and HOSTNAME first, then the image's, then -e) and
// working directory.
func WithImage(img dockerspec.DockerOCIImage, p Process) Opt {
	return func(s *specs.Spec) error {
		argv, err := Command(img.Config, p)
		if err != nil {
			return err
		}
		s.Process.Args = argv
		s.Process.Env = replaceEnv(replaceEnv(s.Process.Env, img.Config.Env), p.Env)
		cwd := img.Config.WorkingDir
		if p.WorkingDir != "" {
			cwd = p.WorkingDir
		}
		if cwd != "" {
			if !strings.HasPrefix(cwd, "/") {
				return errdefs.Invalid("the working directory '%s' is invalid, it needs to be an absolute path", cwd)
			}
			s.Process.Cwd = cwd
		}
		return nil
	}
}

// replaceEnv returns env with each KEY=VALUE of add replacing the entry
// of the same key in place, or appended.
func replaceEnv(env, add []string) []string {
	out := append([]string{}, env...)
	for _, kv := range add {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range out {
			if k, _, _ := strings.Cut(old, "="); k == key {
				out[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// ParseEnvFile parses the contents of an --env-file as docker does: one
// KEY=VALUE per line, # comments and blank lines skipped, a bare KEY taken
// from lookup (the CLI's environment) or dropped when unset there.
func ParseEnvFile(data string, lookup func(string) (string, bool)) ([]string, error) {
	var env []string
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimLeft(strings.TrimRight(line, "\r"), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kv, err := ParseEnv(line, lookup)
		if err != nil {
			return nil, errdefs.Invalid("env file line %d: %w", i+1, err)
		}
		env = append(env, kv...)
	}
	return env, nil
}

// ParseEnv parses one -e value: KEY=VALUE as it is, a bare KEY from
// lookup (nothing when unset there).
func ParseEnv(v string, lookup func(string) (string, bool)) ([]string, error) {
	key, _, hasValue := strings.Cut(v, "=")
	if key == "" || strings.ContainsAny(key, " \t") {
		return nil, errdefs.Invalid("invalid environment variable: %s", v)
	}
	if hasValue {
		return []string{v}, nil
	}
	if val, ok := lookup(key); ok {
		return []string{key + "=" + val}, nil
	}
	return nil, nil
}
