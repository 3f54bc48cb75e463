package internal_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/strata-containers/strata/"

// allowed lists, for each package, the strata packages it may import
// directly (docs/architecture.md explains the layering). A package missing
// from the table may import nothing of strata's; a new package must be added
// here on purpose.
var allowed = map[string][]string{
	"internal":                           nil, // the package of this test
	"internal/errdefs":                   nil,
	"internal/atomicfile":                nil,
	"internal/lockfile":                  nil,
	"internal/reference":                 {"errdefs"},
	"internal/mount":                     {"errdefs"},
	"internal/archive":                   {"errdefs", "mount"},
	"internal/content":                   {"errdefs", "lockfile", "atomicfile"},
	"internal/image":                     {"errdefs", "lockfile", "atomicfile", "reference", "content"},
	"internal/layer":                     {"errdefs", "lockfile", "atomicfile", "mount", "archive"},
	"internal/unpack":                    {"errdefs", "content", "layer", "image", "archive"},
	"internal/imagetar":                  {"errdefs", "atomicfile", "reference", "content", "layer", "image", "archive", "unpack"},
	"internal/runtime":                   {"errdefs", "atomicfile", "lockfile", "runtime/cgroups", "runtime/rootfs", "runtime/seccomp", "runtime/nsenter"},
	"internal/runtime/nsenter":           nil,
	"internal/runtime/cgroups":           {"errdefs"},
	"internal/runtime/rootfs":            {"errdefs", "runtime/cgroups"},
	"internal/runtime/seccomp":           {"errdefs"},
	"internal/config":                    {"errdefs"},
	"internal/registry":                  {"errdefs", "atomicfile"},
	"internal/distribution":              {"errdefs", "reference", "content", "layer", "image", "unpack", "registry"},
	"internal/testutil/registry":         nil,
	"internal/spec":                      {"errdefs"},
	"internal/logs":                      {"atomicfile"},
	"internal/monitor":                   {"errdefs", "runtime", "logs", "atomicfile", "lockfile", "mount"},
	"internal/volume":                    {"errdefs", "lockfile", "atomicfile", "mount"},
	"internal/container":                 {"errdefs", "atomicfile", "lockfile", "runtime", "logs", "monitor"},
	"internal/network":                   {"errdefs", "atomicfile", "lockfile", "network/ipam", "network/firewall", "network/dns"},
	"internal/network/ipam":              {"errdefs", "atomicfile", "lockfile"},
	"internal/network/firewall":          {"errdefs", "lockfile"},
	"internal/network/dns":               nil,
	"internal/build":                     {"errdefs", "atomicfile", "archive", "build/dockerignore"},
	"internal/build/dockerignore":        nil,
	"internal/engine":                    {"*"},
	"internal/cli":                       {"errdefs", "config", "engine", "reference", "cli/format", "runtime"},
	"internal/cli/format":                {"errdefs"},
	"internal/testutil":                  {"testutil/rootfs"},
	"internal/testutil/rootfs":           nil,
	"cmd/strata":                         {"cli", "monitor", "runtime"},
	"cmd/strata-monitor":                 {"monitor", "runtime"},
	"hack/mkimage":                       nil,
	"internal/archive/internal/layergen": nil,
	"internal/archive/internal/genlayer": {"archive/internal/layergen"},
	"hack/mkbusybox":                     {"testutil/rootfs"},
	"internal/layer/overlay":             {"errdefs", "lockfile", "atomicfile", "mount", "archive"},
	"internal/layer/vfs":                 {"errdefs", "lockfile", "atomicfile", "mount", "archive"},
	"internal/layer/testsuite":           {"errdefs", "layer", "mount", "archive", "testutil", "testutil/rootfs"},
}

// TestImportEdges keeps the layering honest, as go-containerregistry's
// depcheck does: it fails when a package imports a strata package that the
// architecture does not allow it to.
func TestImportEdges(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "../...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0]+"/", module)
		pkg = strings.TrimSuffix(pkg, "/")
		rules, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the architecture table of arch_test.go", pkg)
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(strings.TrimPrefix(imp, module), "internal/")
			if !permits(rules, dep) {
				t.Errorf("%s imports %s, which the architecture does not allow", pkg, dep)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d packages: go list output was not understood", checked)
	}
}

func permits(rules []string, dep string) bool {
	for _, r := range rules {
		if r == "*" || r == dep {
			return true
		}
	}
	return false
}
