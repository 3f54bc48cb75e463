package engine

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Info is `docker info`'s data, as far as strata has it.
type Info struct {
	ContainerCounts
	Images          int
	Driver          string
	Root            string
	RunRoot         string
	KernelVersion   string
	OperatingSystem string
	OSType          string
	Architecture    string
	CPUs            int
	MemTotal        int64
	Name            string
}

// Info describes the store and the host.
func (e *Engine) Info(ctx context.Context) (Info, error) {
	imgs, err := e.images.List(ctx)
	if err != nil {
		return Info{}, err
	}
	info := Info{
		Images: len(imgs), Driver: e.layers.Driver(),
		Root: e.cfg.Root, RunRoot: e.cfg.RunRoot,
		OSType: runtime.GOOS, CPUs: runtime.NumCPU(),
		OperatingSystem: osRelease("/etc/os-release"),
	}
	if info.ContainerCounts, err = e.containerCounts(ctx); err != nil {
		return Info{}, err
	}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		info.KernelVersion = unix.ByteSliceToString(uts.Release[:])
		info.Architecture = unix.ByteSliceToString(uts.Machine[:])
		info.Name = unix.ByteSliceToString(uts.Nodename[:])
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		info.MemTotal = int64(si.Totalram) * int64(si.Unit)
	}
	return info, nil
}

// osRelease returns PRETTY_NAME from an os-release file, "" if unknown.
func osRelease(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}
