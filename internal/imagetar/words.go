package imagetar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// word is one shell word of an instruction: as written, and with its
// quotes and escapes removed.
type word struct {
	raw, text string
}

// splitWords splits s into words as a Dockerfile does for ENV and LABEL:
// at unquoted whitespace, honouring "double" and 'single' quotes and
// backslash escapes.
func splitWords(s string) ([]word, error) { return scanWords(s, true) }

// unquote removes quotes and escapes from s without splitting it.
func unquote(s string) (string, error) {
	words, err := scanWords(s, false)
	if err != nil || len(words) == 0 {
		return "", err
	}
	return words[0].text, nil
}

func scanWords(s string, split bool) ([]word, error) {
	var words []word
	var text strings.Builder
	start, inWord := 0, false
	var quote rune
	escaped := false
	for i, c := range s {
		switch {
		case escaped:
			text.WriteRune(c)
			escaped = false
		case c == '\\' && quote != '\'':
			escaped = true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && split && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, word{raw: s[start:i], text: text.String()})
				text.Reset()
				inWord = false
			}
			continue
		default:
			text.WriteRune(c)
		}
		if !inWord {
			start, inWord = i, true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, word{raw: s[start:], text: text.String()})
	}
	return words, nil
}

// expose adds EXPOSE's ports: "80", "53/udp", "8000-8002/tcp".
func expose(cfg *ocispec.ImageConfig, rest string) error {
	words, err := splitWords(rest)
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return errors.New("missing port")
	}
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, w := range words {
		ports, err := portSpec(w.text)
		if err != nil {
			return err
		}
		for _, p := range ports {
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	return nil
}

func portSpec(spec string) ([]string, error) {
	ports, proto, _ := strings.Cut(spec, "/")
	proto = strings.ToLower(proto)
	switch proto {
	case "":
		proto = "tcp"
	case "tcp", "udp", "sctp":
	default:
		return nil, fmt.Errorf("port %q: unknown protocol %q", spec, proto)
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	first, err1 := strconv.ParseUint(lo, 10, 16)
	last := first
	var err2 error
	if isRange {
		last, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if err1 != nil || err2 != nil || first == 0 || last < first {
		return nil, fmt.Errorf("invalid port %q", spec)
	}
	var out []string
	for p := first; p <= last; p++ {
		out = append(out, strconv.FormatUint(p, 10)+"/"+proto)
	}
	return out, nil
}
