package imagetar

import (
	"encoding/json"
	"errors"
	"path"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// changeKeywords are the Dockerfile instructions that --change accepts, as
// in Docker: those that only edit the config.
const changeKeywords = "CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR"

// ApplyChanges applies Dockerfile instructions to cfg in order, as
// `docker import --change` and `docker commit --change` do. JSON and shell
// forms are accepted; variables are not expanded. Anything else, or a
// malformed instruction, is an errdefs.ErrInvalid error naming it.
func ApplyChanges(cfg *ocispec.ImageConfig, changes []string) error {
	cmdSet := false
	for _, change := range changes {
		keyword, rest, _ := strings.Cut(strings.TrimSpace(change), " ")
		keyword, rest = strings.ToUpper(keyword), strings.TrimSpace(rest)
		if err := applyChange(cfg, keyword, rest, &cmdSet); err != nil {
			return errdefs.Invalid("change %q: %w", change, err)
		}
	}
	return nil
}

func applyChange(cfg *ocispec.ImageConfig, keyword, rest string, cmdSet *bool) error {
	var err error
	switch keyword {
	case "CMD":
		cfg.Cmd, err = command(rest)
		*cmdSet = true
	case "ENTRYPOINT":
		cfg.Entrypoint, err = command(rest)
		if !*cmdSet {
			cfg.Cmd = nil // as in a Dockerfile: a new entrypoint drops the inherited command
		}
	case "ENV":
		err = env(cfg, rest)
	case "LABEL":
		err = labels(cfg, rest)
	case "WORKDIR":
		err = workdir(cfg, rest)
	case "USER":
		cfg.User, err = oneWord(rest)
	case "EXPOSE":
		err = expose(cfg, rest)
	case "VOLUME":
		err = volumes(cfg, rest)
	case "STOPSIGNAL":
		cfg.StopSignal, err = stopSignal(rest)
	case "":
		err = errors.New("empty instruction")
	default:
		err = errors.New("instruction " + keyword + " is not supported; use one of " + changeKeywords)
	}
	return err
}

// command parses CMD and ENTRYPOINT: a JSON array is exec form, anything
// else is run by /bin/sh -c.
func command(rest string) ([]string, error) {
	if args, ok := jsonArray(rest); ok {
		return args, nil
	}
	if rest == "" {
		return nil, errors.New("missing command")
	}
	return []string{"/bin/sh", "-c", rest}, nil
}

func jsonArray(rest string) ([]string, bool) {
	if !strings.HasPrefix(rest, "[") {
		return nil, false
	}
	var args []string
	if err := json.Unmarshal([]byte(rest), &args); err != nil {
		return nil, false
	}
	return args, true
}

func env(cfg *ocispec.ImageConfig, rest string) error {
	pairs, err := keyValues(rest)
	if err != nil {
		return err
	}
	for _, kv := range pairs {
		prefix := kv[0] + "="
		replaced := false
		for i, e := range cfg.Env {
			if strings.HasPrefix(e, prefix) {
				cfg.Env[i], replaced = prefix+kv[1], true
			}
		}
		if !replaced {
			cfg.Env = append(cfg.Env, prefix+kv[1])
		}
	}
	return nil
}

func labels(cfg *ocispec.ImageConfig, rest string) error {
	pairs, err := keyValues(rest)
	if err != nil {
		return err
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for _, kv := range pairs {
		cfg.Labels[kv[0]] = kv[1]
	}
	return nil
}

// keyValues parses "k=v k2='v 2'" or the legacy "k value with spaces".
func keyValues(rest string) ([][2]string, error) {
	words, err := splitWords(rest)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, errors.New("missing key=value")
	}
	if !strings.Contains(words[0].raw, "=") {
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			return nil, errors.New("missing value for " + rest)
		}
		value, err := unquote(strings.TrimSpace(rest[i:]))
		return [][2]string{{words[0].text, value}}, err
	}
	var pairs [][2]string
	for _, w := range words {
		key, value, ok := strings.Cut(w.text, "=")
		if !ok || key == "" || !strings.Contains(w.raw, "=") {
			return nil, errors.New("expected key=value, got " + strconv.Quote(w.raw))
		}
		pairs = append(pairs, [2]string{key, value})
	}
	return pairs, nil
}

func workdir(cfg *ocispec.ImageConfig, rest string) error {
	dir, err := unquote(rest)
	if err != nil {
		return err
	}
	if dir == "" {
		return errors.New("missing directory")
	}
	if !path.IsAbs(dir) {
		dir = path.Join("/", cfg.WorkingDir, dir)
	}
	cfg.WorkingDir = path.Clean(dir)
	return nil
}

func oneWord(rest string) (string, error) {
	words, err := splitWords(rest)
	if err != nil {
		return "", err
	}
	if len(words) != 1 {
		return "", errors.New("expected one argument")
	}
	return words[0].text, nil
}

func volumes(cfg *ocispec.ImageConfig, rest string) error {
	vols, ok := jsonArray(rest)
	if !ok {
		words, err := splitWords(rest)
		if err != nil {
			return err
		}
		for _, w := range words {
			vols = append(vols, w.text)
		}
	}
	if len(vols) == 0 {
		return errors.New("missing volume path")
	}
	if cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	for _, v := range vols {
		if strings.TrimSpace(v) == "" {
			return errors.New("empty volume path")
		}
		cfg.Volumes[v] = struct{}{}
	}
	return nil
}

func stopSignal(rest string) (string, error) {
	sig, err := oneWord(rest)
	if err != nil {
		return "", err
	}
	if n, err := strconv.Atoi(sig); err == nil {
		if n <= 0 || n > 64 {
			return "", errors.New("signal " + sig + " out of range")
		}
		return sig, nil
	}
	name := strings.ToUpper(sig)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if unix.SignalNum(name) == 0 && !strings.HasPrefix(name, "SIGRTMIN") && !strings.HasPrefix(name, "SIGRTMAX") {
		return "", errors.New("unknown signal " + sig)
	}
	return sig, nil
}
