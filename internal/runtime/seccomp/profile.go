package seccomp

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Unconfined is the profile name that turns seccomp off, as in Docker's
// --security-opt seccomp=unconfined.
const Unconfined = "unconfined"

//go:embed default.json
var defaultJSON []byte

// profile is Docker's seccomp profile file format: an OCI profile whose
// rules may depend on the architecture, the container's capabilities and
// the kernel version, resolved when a container is created.
type profile struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet,omitempty"`
	Architectures    []specs.Arch             `json:"architectures,omitempty"`
	ArchMap          []archMap                `json:"archMap,omitempty"`
	Syscalls         []syscallRule            `json:"syscalls,omitempty"`
	Flags            []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	ListenerPath     string                   `json:"listenerPath,omitempty"`
	ListenerMetadata string                   `json:"listenerMetadata,omitempty"`
}

type archMap struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures"`
}

type syscallRule struct {
	specs.LinuxSyscall
	Name     string     `json:"name,omitempty"` // the format's older single-name form
	Comment  string     `json:"comment,omitempty"`
	Includes *condition `json:"includes,omitempty"`
	Excludes *condition `json:"excludes,omitempty"`
}

// condition says when a rule applies: on any of the Go architectures, with
// all the capabilities, on a kernel at least this version.
type condition struct {
	Arches    []string `json:"arches,omitempty"`
	Caps      []string `json:"caps,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// DefaultProfile returns Docker's default profile for a container with the
// given capabilities (as in the spec, "CAP_SYS_ADMIN"): an allowlist that
// answers EPERM to the rest, where some syscalls are allowed only with the
// capability that guards them in the kernel, and clone may create
// namespaces only with CAP_SYS_ADMIN.
func DefaultProfile(caps []string) *specs.LinuxSeccomp {
	s, err := Parse(defaultJSON, caps)
	if err != nil {
		panic(fmt.Sprintf("seccomp: the built-in profile is broken: %v", err))
	}
	return s
}

// ForOption resolves the value of Docker's --security-opt seccomp=...:
// "unconfined" (nil, no filter), "" or "builtin" (the default profile), a
// profile in JSON (what the Docker API carries) or the path of a profile
// file (what the docker CLI takes).
func ForOption(ctx context.Context, value string, caps []string) (*specs.LinuxSeccomp, error) {
	switch v := strings.TrimSpace(value); {
	case v == Unconfined:
		return nil, nil
	case v == "" || v == "builtin":
		return DefaultProfile(caps), nil
	case strings.HasPrefix(v, "{"):
		return Parse([]byte(v), caps)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(value)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errdefs.NotFound("seccomp profile %s: %w", value, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading seccomp profile %s: %w", value, err)
	}
	s, err := Parse(data, caps)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", value, err)
	}
	return s, nil
}

// Parse reads a profile in Docker's format (a plain OCI profile is one)
// and resolves it for a container with caps on this machine.
func Parse(data []byte, caps []string) (*specs.LinuxSeccomp, error) {
	var p profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, errdefs.Invalid("decoding seccomp profile: %w", err)
	}
	if p.DefaultAction == "" {
		return nil, errdefs.Invalid("seccomp profile has no defaultAction")
	}
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		return nil, errdefs.Invalid("seccomp profile has both architectures and archMap")
	}
	s := &specs.LinuxSeccomp{
		DefaultAction: p.DefaultAction, DefaultErrnoRet: p.DefaultErrnoRet,
		Architectures: p.Architectures, Flags: p.Flags,
		ListenerPath: p.ListenerPath, ListenerMetadata: p.ListenerMetadata,
	}
	for _, m := range p.ArchMap {
		if m.Arch == specs.ArchX86_64 && goruntime.GOARCH == "amd64" {
			s.Architectures = append([]specs.Arch{m.Arch}, m.SubArches...)
		}
	}
	have := normalizeCaps(caps)
	kernel := kernelVersion()
	for _, r := range p.Syscalls {
		if r.Name != "" && len(r.Names) > 0 {
			return nil, errdefs.Invalid("seccomp rule has both name %q and names", r.Name)
		}
		if !applies(r.Includes, r.Excludes, have, kernel) {
			continue
		}
		call := r.LinuxSyscall
		if r.Name != "" {
			call.Names = []string{r.Name}
		}
		s.Syscalls = append(s.Syscalls, call)
	}
	return s, nil
}

func normalizeCaps(caps []string) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		out[i] = c
	}
	return out
}

// applies reports whether a rule is for this container: every condition
// of includes holds and none of excludes does.
func applies(inc, exc *condition, caps []string, kernel [2]int) bool {
	if inc != nil {
		if len(inc.Arches) > 0 && !slices.Contains(inc.Arches, goruntime.GOARCH) {
			return false
		}
		for _, c := range normalizeCaps(inc.Caps) {
			if !slices.Contains(caps, c) {
				return false
			}
		}
		if inc.MinKernel != "" && !atLeast(kernel, inc.MinKernel) {
			return false
		}
	}
	if exc != nil {
		if slices.Contains(exc.Arches, goruntime.GOARCH) {
			return false
		}
		for _, c := range normalizeCaps(exc.Caps) {
			if slices.Contains(caps, c) {
				return false
			}
		}
		if exc.MinKernel != "" && atLeast(kernel, exc.MinKernel) {
			return false
		}
	}
	return true
}

// kernelVersion is the running kernel's major and minor version, or
// zeros if uname says something unexpected.
func kernelVersion() [2]int {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return [2]int{}
	}
	return parseVersion(unix.ByteSliceToString(u.Release[:]))
}

func parseVersion(s string) [2]int {
	var v [2]int
	for i, part := range strings.SplitN(s, ".", 3) {
		if i == 2 {
			break
		}
		n := len(part) - len(strings.TrimLeft(part, "0123456789"))
		v[i], _ = strconv.Atoi(part[:n])
	}
	return v
}

func atLeast(kernel [2]int, min string) bool {
	m := parseVersion(min)
	return kernel[0] > m[0] || (kernel[0] == m[0] && kernel[1] >= m[1])
}
