package build

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

// defaultPath is the PATH Docker gives images built FROM scratch.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// state is a stage after some step: the image it would be, the cache key
// that names it, and the args in scope.
type state struct {
	cfg   dockerspec.DockerOCIImage
	chain digest.Digest
	key   digest.Digest
	args  *argScope
	// cmdSet says that the stage set CMD, which ENTRYPOINT then keeps.
	cmdSet bool
	// imageID is the ID of the base image while the state is still it:
	// its stored config, whose bytes a re-encoding need not reproduce.
	imageID digest.Digest
}

// id is the ID the state would have as an image: its config's digest.
func (st *state) id() digest.Digest {
	if st.imageID != "" {
		return st.imageID
	}
	data, _ := json.Marshal(st.cfg)
	return digest.FromBytes(data)
}

func shortID(d digest.Digest) string {
	if len(d.Encoded()) < 12 {
		return d.Encoded()
	}
	return d.Encoded()[:12]
}

// now is the time a step records: SOURCE_DATE_EPOCH's when set.
func (b *builder) now() time.Time {
	if b.opts.SourceDateEpoch != nil {
		return b.opts.SourceDateEpoch.UTC()
	}
	return time.Now().UTC()
}

func (b *builder) buildStage(ctx context.Context, i int) (*state, error) {
	stage := b.stages[i]
	b.printStep(stage.SourceCode)
	st, err := b.fromStage(ctx, i)
	if err != nil {
		return nil, b.errAt(stage.Location, err)
	}
	b.printf(" ---> %s\n", shortID(st.id()))
	if err := b.runTriggers(ctx, st); err != nil {
		return nil, err
	}
	for n, cmd := range stage.Commands {
		b.printStep(cmd.(fmt.Stringer).String())
		if err := b.dispatch(ctx, st, cmd, declaredFrom(stage.Commands[n+1:])); err != nil {
			return nil, b.errAt(cmd.Location(), err)
		}
		b.printf(" ---> %s\n", shortID(st.id()))
	}
	return st, nil
}

// declaredFrom lists the args that ARG instructions in cmds declare.
func declaredFrom(cmds []instructions.Command) map[string]bool {
	m := map[string]bool{}
	for _, c := range cmds {
		if a, ok := c.(*instructions.ArgCommand); ok {
			for _, kv := range a.Args {
				m[kv.Key] = true
			}
		}
	}
	return m
}

// fromStage makes the state a FROM line starts: another stage's result,
// an empty image for scratch, or a stored (or pulled) image.
func (b *builder) fromStage(ctx context.Context, i int) (*state, error) {
	base, err := b.meta.expand(b.lex, b.stages[i].BaseName)
	if err != nil {
		return nil, err
	}
	if base == "" {
		return nil, errdefs.Invalid("base name (%s) should not be blank", b.stages[i].BaseName)
	}
	if p := b.stages[i].Platform; p != "" {
		if p, err = b.meta.expand(b.lex, p); err != nil {
			return nil, err
		}
		if p != platformArgs()["TARGETPLATFORM"] && p != runtime.GOOS+"/"+runtime.GOARCH {
			return nil, errdefs.Invalid("FROM --platform=%s: only the host's platform (%s) can be built", p, platformArgs()["TARGETPLATFORM"])
		}
	}
	epoch := ""
	if b.opts.SourceDateEpoch != nil {
		epoch = fmt.Sprint(b.opts.SourceDateEpoch.Unix())
	}
	if j, ok := b.stageRef(base, i); ok {
		prev := b.built[j]
		st := &state{cfg: cloneConfig(prev.cfg), chain: prev.chain, key: prev.key, args: newArgScope()}
		return st, nil
	}
	if strings.EqualFold(base, "scratch") {
		cfg := dockerspec.DockerOCIImage{}
		cfg.Platform = ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
		cfg.RootFS.Type = "layers"
		cfg.Config.Env = []string{defaultPath}
		return &state{cfg: cfg, key: digest.FromString("scratch " + epoch), args: newArgScope()}, nil
	}
	img, err := b.be.Image(ctx, base, b.opts.Pull)
	if err != nil {
		return nil, err
	}
	key := digest.FromString("image " + img.ID.String() + " " + epoch)
	return &state{cfg: cloneConfig(img.Config), chain: img.Chain, key: key, args: newArgScope(), imageID: img.ID}, nil
}

// runTriggers runs the base image's ONBUILD instructions, then drops them.
func (b *builder) runTriggers(ctx context.Context, st *state) error {
	triggers := st.cfg.Config.OnBuild
	if len(triggers) == 0 {
		return nil
	}
	st.cfg.Config.OnBuild = nil
	b.printf("# Executing %d build trigger", len(triggers))
	if len(triggers) > 1 {
		b.printf("s")
	}
	b.printf("\n")
	for _, t := range triggers {
		res, err := parser.Parse(strings.NewReader(t))
		if err != nil || len(res.AST.Children) != 1 {
			return errdefs.Invalid("parsing ONBUILD trigger %q: %v", t, err)
		}
		cmd, err := instructions.ParseCommand(res.AST.Children[0])
		if err != nil {
			return errdefs.Invalid("parsing ONBUILD trigger %q: %w", t, err)
		}
		if err := b.dispatch(ctx, st, cmd, nil); err != nil {
			return fmt.Errorf("ONBUILD trigger %q: %w", t, err)
		}
	}
	return nil
}

// cloneConfig deep-copies a config through JSON, so that steps never
// change a stage or an image another stage still uses.
func cloneConfig(c dockerspec.DockerOCIImage) dockerspec.DockerOCIImage {
	data, _ := json.Marshal(c)
	var out dockerspec.DockerOCIImage
	_ = json.Unmarshal(data, &out)
	return out
}

// stepKey is the cache key of a step over st described by material.
func stepKey(st *state, material string) digest.Digest {
	return digest.FromString(st.key.String() + "\n" + st.argsInEffect() + "\n" + material)
}

// cached adopts a cache entry for key when there is a usable one.
func (b *builder) cached(ctx context.Context, st *state, key digest.Digest) bool {
	if b.opts.NoCache {
		return false
	}
	e, ok := b.cache.Get(key)
	if !ok || (e.Chain != "" && !b.be.LayerExists(ctx, e.Chain)) {
		return false
	}
	var cfg dockerspec.DockerOCIImage
	if json.Unmarshal(e.Config, &cfg) != nil {
		return false
	}
	st.cfg, st.chain, st.key, st.imageID = cfg, e.Chain, key, ""
	b.printf(" ---> Using cache\n")
	return true
}

// record appends the step's history, moves st to key and stores the
// cache entry (a failure to store only costs a later rebuild).
func (b *builder) record(st *state, key digest.Digest, createdBy string, l *Layer) {
	now := b.now()
	h := ocispec.History{Created: &now, CreatedBy: createdBy, EmptyLayer: l == nil || l.Empty}
	if l != nil && !l.Empty {
		st.cfg.RootFS.DiffIDs = append(st.cfg.RootFS.DiffIDs, l.DiffID)
		st.chain = l.Chain
	}
	st.cfg.History = append(st.cfg.History, h)
	st.cfg.Created = &now
	st.key, st.imageID = key, ""
	if data, err := json.Marshal(st.cfg); err == nil {
		_ = b.cache.Put(key, Entry{Config: data, Chain: st.chain})
	}
}
