package spec

import (
	"os"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// InitAnnotation marks a spec whose init must stay as the container's PID
// 1, reaping zombies and forwarding signals to the workload (--init). The
// runtime reads it; its value is InitReaper.
const (
	InitAnnotation = "org.strata.init"
	InitReaper     = "reaper"
)

// Ulimit is one --ulimit: a resource name as docker spells it ("nofile")
// with its soft and hard limits.
type Ulimit struct {
	Name string `json:"Name"`
	Hard int64  `json:"Hard"`
	Soft int64  `json:"Soft"`
}

// ParseUlimit parses a --ulimit value ("nofile=1024:2048", "nproc=512").
func ParseUlimit(v string) (Ulimit, error) {
	u, err := units.ParseUlimit(v)
	if err != nil {
		return Ulimit{}, flagError("--ulimit", v, err.Error())
	}
	return Ulimit{Name: u.Name, Hard: u.Hard, Soft: u.Soft}, nil
}

// Limits are the run options beyond Resources: docker's names.
type Limits struct {
	Ulimits           []Ulimit
	CpusetCpus        string // --cpuset-cpus ("0-1", "0,1")
	CpusetMems        string
	MemorySwap        int64 // memory+swap total (--memory-swap); -1 unlimited, 0 not set
	MemoryReservation int64 // soft limit (--memory-reservation)
	BlkioWeight       uint16
	Init              bool // --init: a reaper as PID 1
}

// WithLimits applies l; it goes after WithResources, whose memory limit
// the swap and reservation are checked against (docker's messages).
func WithLimits(l Limits) Opt {
	return func(s *specs.Spec) error {
		if err := l.check(memoryLimit(s)); err != nil {
			return err
		}
		res := s.Linux.Resources
		if l.MemorySwap != 0 || l.MemoryReservation > 0 {
			if res.Memory == nil {
				res.Memory = &specs.LinuxMemory{}
			}
			if l.MemorySwap != 0 {
				swap := l.MemorySwap
				res.Memory.Swap = &swap
			}
			if l.MemoryReservation > 0 {
				r := l.MemoryReservation
				res.Memory.Reservation = &r
			}
		}
		if l.CpusetCpus != "" || l.CpusetMems != "" {
			if res.CPU == nil {
				res.CPU = &specs.LinuxCPU{}
			}
			res.CPU.Cpus, res.CPU.Mems = l.CpusetCpus, l.CpusetMems
		}
		if l.BlkioWeight > 0 {
			w := l.BlkioWeight
			res.BlockIO = &specs.LinuxBlockIO{Weight: &w}
		}
		rls, err := rlimits(l.Ulimits)
		if err != nil {
			return err
		}
		s.Process.Rlimits = append(s.Process.Rlimits, rls...)
		if l.Init {
			return WithAnnotations(map[string]string{InitAnnotation: InitReaper})(s)
		}
		return nil
	}
}

func memoryLimit(s *specs.Spec) int64 {
	if m := s.Linux.Resources.Memory; m != nil && m.Limit != nil {
		return *m.Limit
	}
	return 0
}

// check validates l against the memory limit, with docker's words.
func (l Limits) check(memory int64) error {
	switch {
	case l.MemorySwap > 0 && memory == 0:
		return errdefs.Invalid("You should always set the Memory limit when using Memoryswap limit, see usage")
	case l.MemorySwap > 0 && l.MemorySwap < memory:
		return errdefs.Invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
	case l.MemoryReservation < 0:
		return errdefs.Invalid("invalid memory reservation %d: must be positive", l.MemoryReservation)
	case l.MemoryReservation > 0 && memory > 0 && memory < l.MemoryReservation:
		return errdefs.Invalid("Minimum memory limit can not be less than memory reservation limit, see usage")
	case l.BlkioWeight != 0 && (l.BlkioWeight < 10 || l.BlkioWeight > 1000):
		return errdefs.Invalid("Range of blkio weight is from 10 to 1000")
	}
	if err := CheckCpuset(l.CpusetCpus); err != nil {
		return err
	}
	return nil
}

// CheckCpuset validates a --cpuset-cpus list ("0-2,4") against the CPUs
// this host has online, with docker's messages.
func CheckCpuset(list string) error {
	if list == "" {
		return nil
	}
	want, err := parseCPUList(list)
	if err != nil {
		return errdefs.Invalid("Invalid value %s for cpuset cpus", list)
	}
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil // the kernel checks when the cgroup is written
	}
	online := strings.TrimSpace(string(data))
	have, err := parseCPUList(online)
	if err != nil {
		return nil
	}
	for cpu := range want {
		if !have[cpu] {
			return errdefs.Invalid("Requested CPUs are not available - requested %s, available: %s", list, online)
		}
	}
	return nil
}

// parseCPUList parses the kernel's list format ("0-3,5").
func parseCPUList(list string) (map[int]bool, error) {
	cpus := map[int]bool{}
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, errdefs.Invalid("bad cpu list %q", list)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, errdefs.Invalid("bad cpu list %q", list)
			}
		}
		for c := a; c <= b; c++ {
			cpus[c] = true
		}
	}
	return cpus, nil
}

// rlimits turns ulimits into the spec's rlimits. A hard limit above this
// process's own cannot be set without CAP_SYS_RESOURCE, which root may
// lack (in a container, say): that is a clear error now rather than a
// failed start later.
func rlimits(us []Ulimit) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	for _, u := range us {
		uu := units.Ulimit{Name: u.Name, Hard: u.Hard, Soft: u.Soft}
		rl, err := uu.GetRlimit()
		if err != nil {
			return nil, errdefs.Invalid("ulimit %s: %w", u.Name, err)
		}
		var cur unix.Rlimit
		if unix.Getrlimit(rl.Type, &cur) == nil && cur.Max != unix.RLIM_INFINITY && rl.Hard > cur.Max && !canRaiseRlimits() {
			return nil, errdefs.Invalid("ulimit %s=%d:%d: the hard limit is above this host's %d, and raising it needs CAP_SYS_RESOURCE",
				u.Name, u.Soft, u.Hard, cur.Max)
		}
		out = append(out, specs.POSIXRlimit{Type: "RLIMIT_" + strings.ToUpper(u.Name), Hard: rl.Hard, Soft: rl.Soft})
	}
	return out, nil
}

// canRaiseRlimits reports whether this process has CAP_SYS_RESOURCE.
func canRaiseRlimits() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[0].Effective&(1<<unix.CAP_SYS_RESOURCE) != 0
}
