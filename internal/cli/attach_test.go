package cli

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

func TestParseDetachKeys(t *testing.T) {
	for in, want := range map[string]string{
		"ctrl-p,ctrl-q": "\x10\x11",
		"ctrl-a,x":      "\x01x",
		"ctrl-@,ctrl-[": "\x00\x1b",
		"CTRL-_":        "\x1f",
		"a,b,c":         "abc",
	} {
		got, err := parseDetachKeys(in)
		if err != nil || string(got) != want {
			t.Errorf("parseDetachKeys(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ctrl-1", "ctrl-", "ab", ""} {
		if _, err := parseDetachKeys(bad); !errdefs.IsInvalid(err) {
			t.Errorf("parseDetachKeys(%q): %v, want invalid", bad, err)
		}
	}
}

func TestDetachReader(t *testing.T) {
	for _, tc := range []struct {
		name, in, passed string
		detached         bool
	}{
		{"plain", "hello", "hello", false},
		{"detach", "ls\r\x10\x11rest", "ls\r", true},
		{"half sequence is typed", "a\x10b\x10\x10c", "a\x10b\x10\x10c", false},
		{"restart of the sequence", "\x10\x10\x11", "\x10", true},
		{"prefix at EOF", "x\x10", "x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per read: the sequence spans reads, as typed keys do.
			d := &detachReader{r: iotest.OneByteReader(strings.NewReader(tc.in)), keys: []byte{0x10, 0x11}}
			var out bytes.Buffer
			_, err := io.Copy(&out, d)
			if got := errors.Is(err, engine.ErrDetached); got != tc.detached || (!got && err != nil) {
				t.Errorf("err = %v, detached want %v", err, tc.detached)
			}
			if out.String() != tc.passed {
				t.Errorf("passed %q, want %q", out.String(), tc.passed)
			}
		})
	}
}

func TestRestartFlag(t *testing.T) {
	for in, want := range map[string]string{"no": "no:0", "always": "always:0", "on-failure": "on-failure:0", "on-failure:5": "on-failure:5", "unless-stopped": "unless-stopped:0"} {
		p, err := engine.ParseRestartPolicy(in)
		if got := p.Name + ":" + strconv.Itoa(p.MaximumRetryCount); err != nil || got != want {
			t.Errorf("ParseRestartPolicy(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"sometimes", "always:3", "on-failure:x", "on-failure:-1"} {
		if _, err := engine.ParseRestartPolicy(bad); !errdefs.IsInvalid(err) {
			t.Errorf("ParseRestartPolicy(%q): %v, want invalid", bad, err)
		}
	}
}
