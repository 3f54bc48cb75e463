package spec

import specs "github.com/opencontainers/runtime-spec/specs-go"

// WithIDMappings runs the container in a new user namespace with the given
// uid and gid maps (--userns-remap); with no maps it changes nothing. The
// runtime then bind-mounts the devices, as the namespace's root may not
// make device nodes.
func WithIDMappings(uids, gids []specs.LinuxIDMapping) Opt {
	return func(s *specs.Spec) error {
		if len(uids) == 0 || len(gids) == 0 {
			return nil
		}
		s.Linux.Namespaces = removeNamespace(s.Linux.Namespaces, specs.UserNamespace)
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = append([]specs.LinuxIDMapping{}, uids...)
		s.Linux.GIDMappings = append([]specs.LinuxIDMapping{}, gids...)
		return nil
	}
}
