package spec

import (
	"errors"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestWithLimits(t *testing.T) {
	s, err := Generate(testID,
		WithResources(Resources{Memory: 64 << 20}),
		WithLimits(Limits{
			Ulimits:    []Ulimit{{Name: "nofile", Soft: 100, Hard: 200}},
			CpusetCpus: "0", MemorySwap: 128 << 20, MemoryReservation: 32 << 20, BlkioWeight: 300, Init: true,
		}))
	if err != nil {
		t.Fatal(err)
	}
	res := s.Linux.Resources
	if *res.Memory.Limit != 64<<20 || *res.Memory.Swap != 128<<20 || *res.Memory.Reservation != 32<<20 {
		t.Errorf("memory: %+v", res.Memory)
	}
	if res.CPU.Cpus != "0" || *res.BlockIO.Weight != 300 {
		t.Errorf("cpu %+v, blkio %+v", res.CPU, res.BlockIO)
	}
	if want := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 200, Soft: 100}}; !reflect.DeepEqual(s.Process.Rlimits, want) {
		t.Errorf("rlimits %+v", s.Process.Rlimits)
	}
	if s.Annotations[InitAnnotation] != InitReaper {
		t.Errorf("annotations %v", s.Annotations)
	}
}

func TestLimitsErrors(t *testing.T) {
	for _, tc := range []struct {
		memory int64
		l      Limits
		msg    string
	}{
		{0, Limits{MemorySwap: 1 << 30}, "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{64 << 20, Limits{MemorySwap: 32 << 20}, "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{16 << 20, Limits{MemoryReservation: 32 << 20}, "Minimum memory limit can not be less than memory reservation limit, see usage"},
		{0, Limits{BlkioWeight: 5}, "Range of blkio weight is from 10 to 1000"},
		{0, Limits{CpusetCpus: "1-0"}, "Invalid value 1-0 for cpuset cpus"},
		{0, Limits{CpusetCpus: "0-100000"}, "Requested CPUs are not available - requested 0-100000, available: "},
	} {
		_, err := Generate(testID, WithResources(Resources{Memory: tc.memory}), WithLimits(tc.l))
		if !errors.Is(err, errdefs.ErrInvalid) || len(err.Error()) < len(tc.msg) || err.Error()[:len(tc.msg)] != tc.msg {
			t.Errorf("%+v: %v, want %q", tc.l, err, tc.msg)
		}
	}
	if _, err := ParseUlimit("nofile=2:1"); err == nil {
		t.Error("a soft limit above the hard one parsed")
	}
	if u, err := ParseUlimit("nproc=512"); err != nil || u != (Ulimit{Name: "nproc", Soft: 512, Hard: 512}) {
		t.Errorf("ParseUlimit(nproc=512) = %+v, %v", u, err)
	}
	if _, err := Generate(testID, WithLimits(Limits{Ulimits: []Ulimit{{Name: "nofile", Soft: 1 << 40, Hard: 1 << 40}}})); canRaiseRlimits() == (err != nil) {
		t.Errorf("an rlimit above the host's: %v (CAP_SYS_RESOURCE: %v)", err, canRaiseRlimits())
	}
}
