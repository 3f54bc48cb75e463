package build

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/strata-containers/strata/internal/errdefs"
)

// proxyArgs may be given with --build-arg without an ARG, and stay out of
// the history, as in Docker.
var proxyArgs = []string{
	"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
	"NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
}

func isPredefinedArg(k string) bool { return slices.Contains(proxyArgs, k) }

// platformArgs are BuildKit's automatic platform args, in the global scope
// (a stage must declare them with ARG to see them).
func platformArgs() map[string]string {
	os, arch := runtime.GOOS, runtime.GOARCH
	variant := ""
	if arch == "arm64" {
		variant = "v8"
	}
	platform := os + "/" + arch
	if variant != "" {
		platform += "/" + variant
	}
	m := map[string]string{}
	for _, p := range []string{"BUILD", "TARGET"} {
		m[p+"PLATFORM"], m[p+"OS"], m[p+"ARCH"], m[p+"VARIANT"] = platform, os, arch, variant
	}
	return m
}

// argScope holds the args declared in one scope: the global one (before
// the first FROM) or a stage's. A nil value is declared without a value.
type argScope struct {
	vals  map[string]*string
	order []string
}

func newArgScope() *argScope { return &argScope{vals: map[string]*string{}} }

func (s *argScope) set(k string, v *string) {
	if _, ok := s.vals[k]; !ok {
		s.order = append(s.order, k)
	}
	s.vals[k] = v
}

// env lists the args that have a value, as KEY=VALUE, in declaration order.
func (s *argScope) env() []string {
	var out []string
	for _, k := range s.order {
		if v := s.vals[k]; v != nil {
			out = append(out, k+"="+*v)
		}
	}
	return out
}

func (s *argScope) expand(lex *shell.Lex, word string) (string, error) {
	out, _, err := lex.ProcessWord(word, shell.EnvsFromSlice(s.env()))
	return out, err
}

func (b *builder) metaScope(args []instructions.ArgCommand) (*argScope, error) {
	s := newArgScope()
	for k, v := range platformArgs() {
		s.set(k, &v)
	}
	for _, a := range args {
		for _, kv := range a.Args {
			v, err := b.argValue(kv, s.env(), nil)
			if err != nil {
				return nil, b.errAt(a.Location(), err)
			}
			s.set(kv.Key, v)
		}
	}
	return s, nil
}

// argValue is the value an ARG takes: the build arg's, else its default
// expanded in env, else the global scope's (for an ARG in a stage).
func (b *builder) argValue(kv instructions.KeyValuePairOptional, env []string, global *argScope) (*string, error) {
	if v, ok := b.opts.BuildArgs[kv.Key]; ok {
		b.used.add(kv.Key)
		return &v, nil
	}
	if kv.Value != nil {
		v, _, err := b.lex.ProcessWord(*kv.Value, shell.EnvsFromSlice(env))
		if err != nil {
			return nil, err
		}
		return &v, nil
	}
	if global != nil {
		if v, ok := global.vals[kv.Key]; ok {
			return v, nil
		}
	}
	return nil, nil
}

// expansionEnv is what ${VAR} sees in a stage: its args, then the
// image's Env, which wins over an ARG of the same name.
func (st *state) expansionEnv() []string {
	return append(st.args.env(), st.cfg.Config.Env...)
}

// runEnv is the environment of a RUN: the image's Env plus the args in
// scope (and proxy build args) that Env does not set.
func (st *state) runEnv(buildArgs map[string]string) []string {
	env := slices.Clone(st.cfg.Config.Env)
	has := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		has[k] = true
	}
	for _, kv := range st.args.env() {
		k, _, _ := strings.Cut(kv, "=")
		if !has[k] {
			env = append(env, kv)
			has[k] = true
		}
	}
	for _, k := range proxyArgs {
		if v, ok := buildArgs[k]; ok && !has[k] {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// expandCommand substitutes variables in cmd's words. A variable left
// unset that the stage declares with a later ARG is an error: the ARG is
// used before it is declared.
func (b *builder) expandCommand(st *state, cmd instructions.Command, later map[string]bool) error {
	env := shell.EnvsFromSlice(st.expansionEnv())
	expander := func(word string) (string, error) {
		res, err := b.lex.ProcessWordWithMatches(word, env)
		if err != nil {
			return "", err
		}
		for k := range res.Unmatched {
			if later[k] {
				return "", errdefs.Invalid("ARG %s is used before it is declared", k)
			}
		}
		return res.Result, nil
	}
	if c, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		if err := c.Expand(expander); err != nil {
			return err
		}
	}
	if c, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
		raw := func(word string) (string, error) {
			lex := *b.lex
			lex.RawQuotes, lex.RawEscapes = true, true
			out, _, err := lex.ProcessWord(word, env)
			return out, err
		}
		if err := c.ExpandRaw(raw); err != nil {
			return err
		}
	}
	return nil
}

// argsInEffect is the part of a cache key the args make: every declared
// arg's value, in order.
func (st *state) argsInEffect() string {
	return fmt.Sprint(st.args.env())
}
