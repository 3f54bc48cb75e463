package spec

import (
	"math"
	"strconv"

	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Resources are the resource limits of docker run; zero means unlimited.
type Resources struct {
	Memory    int64 // bytes (-m, --memory)
	NanoCPUs  int64 // CPUs in 1e-9 units (--cpus)
	CPUShares int64 // relative weight (--cpu-shares)
	PidsLimit int64 // max processes (--pids-limit); <= 0 is unlimited
}

// cpuPeriod is the CFS period --cpus is expressed in, as Docker uses.
const cpuPeriod = 100000

// flagError words a bad flag value as docker's CLI (pflag) does.
func flagError(flag, value string, cause string) error {
	return errdefs.Invalid("invalid argument %q for %q flag: %s", value, flag, cause)
}

// ParseMemory parses a --memory value ("512m", "1g", "1073741824").
func ParseMemory(value string) (int64, error) {
	n, err := units.RAMInBytes(value)
	if err != nil {
		return 0, flagError("-m, --memory", value, "invalid size: '"+value+"'")
	}
	return n, nil
}

// ParseCPUs parses a --cpus value ("1.5") into nano CPUs.
func ParseCPUs(value string) (int64, error) {
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, flagError("--cpus", value, "failed to parse "+strconv.Quote(value)+" as a rational number")
	}
	return int64(f * 1e9), nil
}

// WithResources puts the limits into spec.Linux.Resources.
func WithResources(r Resources) Opt {
	return func(s *specs.Spec) error {
		res := s.Linux.Resources
		if r.Memory < 0 {
			return errdefs.Invalid("invalid memory limit %d: must be positive", r.Memory)
		}
		if r.Memory > 0 {
			if r.Memory < 6*1024*1024 {
				return errdefs.Invalid("Minimum memory limit allowed is 6MB")
			}
			res.Memory = &specs.LinuxMemory{Limit: &r.Memory}
		}
		if r.NanoCPUs > 0 || r.CPUShares > 0 {
			res.CPU = &specs.LinuxCPU{}
		}
		if r.NanoCPUs > 0 {
			quota, period := r.NanoCPUs*cpuPeriod/1e9, uint64(cpuPeriod)
			res.CPU.Quota, res.CPU.Period = &quota, &period
		}
		if r.CPUShares > 0 {
			shares := uint64(r.CPUShares)
			res.CPU.Shares = &shares
		}
		if r.PidsLimit > 0 {
			limit := r.PidsLimit
			res.Pids = &specs.LinuxPids{Limit: &limit}
		}
		return nil
	}
}
