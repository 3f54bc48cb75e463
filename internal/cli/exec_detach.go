package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// execHoldVerb, as `exec _hold-terminal -`, runs the process that keeps
// a detached `exec -it` process's terminal open. Container names begin
// with a letter or digit, so it cannot be mistaken for one.
const execHoldVerb = "_hold-terminal"

// execDetachKeys parses exec's --detach-keys (docker's ctrl-p,ctrl-q by
// default).
func execDetachKeys(keys string) ([]byte, error) {
	if keys == "" {
		keys = defaultDetachKeys
	}
	return parseDetachKeys(keys)
}

// holdTerminal hands the master of a detached exec's terminal to a
// holder process and returns. Docker's daemon keeps the terminal of a
// detached exec; strata has no daemon, and closing the last master would
// hang the terminal up (SIGHUP to the process), so a small process of its
// own, in its own session, keeps it open and drains what the process
// writes, until the process and its children close the terminal.
func holdTerminal(master *os.File) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("keeping the exec's terminal open: %w", err)
	}
	cmd := exec.Command(self, "exec", execHoldVerb, "-")
	cmd.ExtraFiles = []*os.File{master} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("keeping the exec's terminal open: %w", err)
	}
	return cmd.Process.Release()
}

// holdConsole is the holder: it drains the terminal's master (fd 3)
// until every holder of its slave has closed it (EIO).
func holdConsole() error {
	master := os.NewFile(3, "console")
	if _, err := io.Copy(io.Discard, master); err != nil && !errors.Is(err, syscall.EIO) {
		return err
	}
	return nil
}
