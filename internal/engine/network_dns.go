package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// ensureDNS starts the embedded DNS server of network id unless one runs,
// and waits until it listens, so that the container's first query is
// answered. The server is this binary re-executed (`network dns-serve`),
// in a session of its own, as the monitor is.
func (e *Engine) ensureDNS(ctx context.Context, id string) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	n, err := m.Get(ctx, id)
	if err != nil || m.DNSRunning(n) {
		return err
	}
	cmd := exec.Command("/proc/self/exe", "--root", e.cfg.Root, "--runroot", e.cfg.RunRoot, "network", "dns-serve", n.ID)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the DNS server of network %s: %w", n.Name, err)
	}
	ready := make(chan error, 1)
	go func() {
		_, err := bufio.NewReader(out).ReadString('\n')
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(5 * time.Second):
		err = fmt.Errorf("timed out")
	}
	go func() { _ = cmd.Wait() }() // reaps it should it end while we run
	if err != nil {
		return fmt.Errorf("starting the DNS server of network %s: %w", n.Name, err)
	}
	return nil
}

// NetworkServeDNS runs network ref's embedded DNS server until its bridge
// goes; it writes "ready" to w once it listens.
func (e *Engine) NetworkServeDNS(ctx context.Context, ref string, w io.Writer) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	n, err := m.Get(ctx, ref)
	if err != nil {
		return err
	}
	return m.ServeDNS(ctx, n, func() { fmt.Fprintln(w, "ready") })
}
