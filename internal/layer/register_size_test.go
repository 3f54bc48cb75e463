package layer

import "testing"

// TestSizeOfRewrittenFile checks the Size of a layer whose tar writes one
// file twice: Apply wrote more bytes than the layer keeps, so the size is
// measured on disk, not taken from Apply's count.
func TestSizeOfRewrittenFile(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		info := register(t, s, "", file("a", "1234567890"), file("a", "123"), file("b", "12"))
		if info.Size != 5 {
			t.Errorf("size %d, want 5", info.Size)
		}
	})
}
