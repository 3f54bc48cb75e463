package cli

import (
	"strconv"
	"strings"
	"testing"
)

// render plays terminal output on a screen cols wide and as tall as it
// needs, and returns its lines with trailing blanks cut, up to the one the
// cursor rests on. It knows what progress bars use: printable ASCII, \r,
// \n (as \r\n, the tty's ONLCR), CSI n A/B (cursor up/down), CSI 2K and
// CSI K (erase line, erase to its end); other CSI sequences are ignored,
// and any other control byte fails the test.
func render(t *testing.T, out []byte, cols int) []string {
	t.Helper()
	s := &screen{cols: cols, lines: [][]byte{nil}}
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case c == '\r':
			s.col = 0
		case c == '\n':
			s.row, s.col = s.row+1, 0
		case c == 0x1b && i+1 < len(out) && out[i+1] == '[':
			end := i + 2
			for end < len(out) && (out[end] < 0x40 || out[end] > 0x7e) {
				end++
			}
			if end == len(out) {
				t.Fatalf("unterminated escape sequence %q", out[i:])
			}
			s.csi(string(out[i+2:end]), out[end])
			i = end
		case c >= 0x20 && c < 0x7f:
			s.put(c)
		default:
			t.Fatalf("unexpected byte %#x at %d in %q", c, i, out)
		}
	}
	s.grow()
	var lines []string
	for _, l := range s.lines {
		lines = append(lines, strings.TrimRight(string(l), " "))
	}
	return lines
}

type screen struct {
	cols     int
	row, col int
	lines    [][]byte
}

func (s *screen) grow() {
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, nil)
	}
}

// put writes c at the cursor; a character past the last column wraps, as
// terminals' autowrap does (which is what progress bars must never cause).
func (s *screen) put(c byte) {
	if s.col >= s.cols {
		s.row, s.col = s.row+1, 0
	}
	s.grow()
	l := s.lines[s.row]
	for len(l) <= s.col {
		l = append(l, ' ')
	}
	l[s.col] = c
	s.lines[s.row] = l
	s.col++
}

func (s *screen) csi(params string, final byte) {
	n, err := strconv.Atoi(params)
	if err != nil || n < 1 {
		n = 1
	}
	s.grow()
	switch final {
	case 'A':
		s.row = max(0, s.row-n)
	case 'B':
		s.row += n
	case 'K':
		if params == "2" {
			s.lines[s.row] = nil
		} else if s.col < len(s.lines[s.row]) {
			s.lines[s.row] = s.lines[s.row][:s.col]
		}
	}
}
