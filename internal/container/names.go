package container

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
)

// validName is docker's rule for container names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// NewID returns a new random container ID: 64 hex digits.
func NewID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var (
	adjectives = []string{
		"admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful",
		"blissful", "bold", "brave", "busy", "charming", "clever", "compassionate", "competent",
		"confident", "cool", "cranky", "crazy", "dazzling", "determined", "distracted", "dreamy",
		"eager", "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic", "exciting",
		"fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny", "gallant",
		"gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful",
		"hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen",
		"kind", "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying",
		"naughty", "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful",
		"pedantic", "pensive", "practical", "priceless", "quirky", "quizzical", "recursing", "relaxed",
		"reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange",
		"stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat",
		"vibrant", "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
	}
	surnames = []string{
		"agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli", "babbage", "banach",
		"bardeen", "bartik", "bell", "bhabha", "blackwell", "bohr", "booth", "borg", "bose", "brahmagupta",
		"brattain", "brown", "carson", "cerf", "chandrasekhar", "chatelet", "clarke", "curie", "darwin",
		"davinci", "dijkstra", "einstein", "elion", "engelbart", "euclid", "euler", "faraday", "fermat",
		"fermi", "feynman", "franklin", "galileo", "gates", "goldberg", "goodall", "hamilton", "hawking",
		"heisenberg", "hertz", "hodgkin", "hopper", "hypatia", "jackson", "jang", "kalam", "kepler",
		"knuth", "kowalevski", "lalande", "lamarr", "leakey", "lovelace", "lumiere", "mayer", "mccarthy",
		"mclean", "meitner", "mendel", "merkle", "montalcini", "morse", "newton", "nobel", "noether",
		"pare", "pascal", "pasteur", "payne", "perlman", "pike", "poincare", "ptolemy", "raman",
		"ritchie", "roentgen", "rosalind", "sammet", "shannon", "shockley", "sinoussi", "stonebraker",
		"swartz", "tesla", "thompson", "torvalds", "turing", "varahamihira", "villani", "wescoff",
		"wiles", "williams", "wilson", "wing", "wozniak", "wright", "yalow", "yonath",
	}
)

func pick(list []string) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
	return list[n.Int64()]
}

// randomName is a docker-style name, adjective_surname.
func randomName() string {
	for {
		name := pick(adjectives) + "_" + pick(surnames)
		if name != "boring_wozniak" { // Steve Wozniak is not boring
			return name
		}
	}
}

func (s *Store) namePath(name string) string { return filepath.Join(s.root, "names", name) }

// reserveName binds name to id, failing with docker's conflict error when
// another existing container has it. A name whose container is gone (a
// remover that died between its two steps) is taken over.
func (s *Store) reserveName(name, id string) error {
	if !validName.MatchString(name) {
		return errdefs.Invalid("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	tmp := filepath.Join(s.root, "names", ".tmp-"+id)
	if err := os.WriteFile(tmp, []byte(id), 0o600); err != nil {
		return fmt.Errorf("reserving name %s: %w", name, err)
	}
	defer os.Remove(tmp)
	for range 2 {
		err := os.Link(tmp, s.namePath(name))
		if err == nil {
			return atomicfile.SyncDir(filepath.Dir(tmp))
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("reserving name %s: %w", name, err)
		}
		owner, _ := s.nameOwner(name)
		if _, err := os.Stat(s.dir(owner)); owner != "" && err == nil {
			return errdefs.Conflict(`Conflict. The container name "/%s" is already in use by container "%s". You have to remove (or rename) that container to be able to reuse that name.`, name, owner)
		}
		os.Remove(s.namePath(name))
	}
	return errdefs.Conflict("reserving name %s: lost a race for it", name)
}

func (s *Store) nameOwner(name string) (string, error) {
	if !validName.MatchString(name) {
		return "", os.ErrNotExist
	}
	data, err := os.ReadFile(s.namePath(name))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// releaseName removes name if it still belongs to id.
func (s *Store) releaseName(name, id string) {
	if owner, err := s.nameOwner(name); err == nil && owner == id {
		os.Remove(s.namePath(name))
	}
}

// IsID says whether s has the form of a container ID (NewID's).
func IsID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// SweepNames removes the names whose container has no directory (left by
// a power loss that kept a synced name of an --rm container but not its
// unsynced record; reserveName would take such a name over anyway), and
// the temporary files of reserveName's creators that died.
func (s *Store) SweepNames() {
	entries, err := os.ReadDir(filepath.Join(s.root, "names"))
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if id, ok := strings.CutPrefix(name, tmpPrefix); ok {
			if IsID(id) && !s.Holds(id) { // reserveName's creator died
				os.Remove(s.namePath(name))
			}
			continue
		}
		if owner, err := s.nameOwner(name); err == nil && IsID(owner) && !s.Holds(owner) {
			s.releaseName(name, owner)
		}
	}
}
