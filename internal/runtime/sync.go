package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime/cgroups"
)

// The sync protocol between the runtime and a container's init. Messages
// are JSON objects, one per line.
//
// Create runs over a socketpair whose init end the init finds at the fd
// named by its marker variable:
//
//	runtime → init  {"type":"config","config":{...}}  sent once the init is in its cgroup
//	init → runtime  {"type":"created"}                set up, waiting for start
//	            or  {"type":"error","error":{"class":"...","message":"..."}}
//
// Start runs over a connection to the start socket, a listening unix socket
// bound at <state>/<id>/start.sock by the runtime and inherited by the init:
//
//	starter → init  {"type":"start"}
//	init → starter  nothing if execve succeeds: the connection is
//	                close-on-exec, so the starter reads a clean EOF
//	            or  {"type":"error",...} when execve fails; the init exits
//
// A socket rather than a pipe because the starter is usually another
// process (`strata runtime start`) than the creator, which has exited.
type msgType string

const (
	msgConfig  msgType = "config"
	msgCreated msgType = "created"
	msgStart   msgType = "start"
	msgError   msgType = "error"
	// The init asks the runtime to run the prestart and createRuntime
	// hooks before it pivots, and waits for hooksDone (hooks.go).
	msgHooks     msgType = "hooks"
	msgHooksDone msgType = "hooksDone"
)

type message struct {
	Type   msgType     `json:"type"`
	Config *initConfig `json:"config,omitempty"`
	Error  *wireError  `json:"error,omitempty"`
}

// initConfig is everything the init needs to build the container.
type initConfig struct {
	ID     string      `json:"id"`
	Spec   *specs.Spec `json:"spec"`
	Rootfs string      `json:"rootfs"` // absolute host path
	Bundle string      `json:"bundle"`
	// PreservedFDs is the number of fds after stdio the workload inherits.
	PreservedFDs int             `json:"preservedFds"`
	CgroupMounts []cgroups.Mount `json:"cgroupMounts"`
	// HostPid is the init's pid on the host, for the hooks' state.
	HostPid int `json:"hostPid"`
}

// maxMessage bounds what a peer may make the other side buffer: a spec
// with a large seccomp profile is well under a megabyte.
const maxMessage = 16 << 20

func writeMessage(w io.Writer, m message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding %s message: %w", m.Type, err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("sending %s message: %w", m.Type, err)
	}
	return nil
}

// readMessage reads one message; io.EOF means the peer closed the channel
// without a word.
func readMessage(dec *json.Decoder) (message, error) {
	var m message
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return m, io.EOF
		}
		return m, fmt.Errorf("reading sync message: %w", err)
	}
	return m, nil
}

func newDecoder(r io.Reader) *json.Decoder {
	return json.NewDecoder(io.LimitReader(r, maxMessage))
}

// wireError carries an error and its class across the protocol.
type wireError struct {
	Class   string `json:"class,omitempty"`
	Message string `json:"message"`
}

// The classes on the wire; exec failures get their own so that a CLI can
// exit 127 or 126 as a shell does.
var wireClasses = []struct {
	name    string
	classes []error
}{
	{"exec-notfound", []error{errdefs.ErrNotFound, ErrExecNotFound}},
	{"exec-denied", []error{errdefs.ErrInvalid, ErrExecDenied}},
	{"notfound", []error{errdefs.ErrNotFound}},
	{"invalid", []error{errdefs.ErrInvalid}},
	{"conflict", []error{errdefs.ErrConflict}},
	{"unavailable", []error{errdefs.ErrUnavailable}},
	{"dataloss", []error{errdefs.ErrDataLoss}},
}

func toWire(err error) *wireError {
	w := &wireError{Message: err.Error()}
	for _, c := range wireClasses {
		if errors.Is(err, c.classes[len(c.classes)-1]) {
			w.Class = c.name
			break
		}
	}
	return w
}

// err rebuilds the error on the receiving side, with its classes.
func (w *wireError) err() error {
	e := &initError{msg: w.Message}
	for _, c := range wireClasses {
		if c.name == w.Class {
			e.classes = c.classes
		}
	}
	return e
}

type initError struct {
	msg     string
	classes []error
}

func (e *initError) Error() string   { return e.msg }
func (e *initError) Unwrap() []error { return e.classes }
