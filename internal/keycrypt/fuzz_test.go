package keycrypt

import (
	"errors"
	"testing"
)

// FuzzOpen checks that arbitrary stored rows can never crash the service:
// Open must either succeed or fail with one of the two documented sentinel
// errors, and its verdict must agree with Validate.
func FuzzOpen(f *testing.F) {
	k, err := NewKeyring(keyB, keyA)
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range loadNodeVectors(f) {
		f.Add(v.IV, v.Content, v.Tag)
	}
	s, err := k.Seal(fakeOpenRouterKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s.IV, s.Content, s.Tag)
	f.Add("", "", "")
	f.Add("zz", "0", "00")
	f.Add(s.IV[:22], s.Content, s.Tag)
	f.Add(s.IV, s.Content, s.Tag[:30])
	f.Add(s.IV+s.IV, s.Content, s.Tag)

	f.Fuzz(func(t *testing.T, iv, content, tag string) {
		s := Sealed{IV: iv, Content: content, Tag: tag}
		pt, usedPrevious, err := k.OpenWithKeyInfo(s)
		verr := s.Validate()
		switch {
		case err == nil:
			if verr != nil {
				t.Fatalf("Open succeeded but Validate failed: %v", verr)
			}
			// Anything that opens must survive a re-seal under the current key.
			resealed, err := k.Seal(pt)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got, again, err := k.OpenWithKeyInfo(resealed); err != nil || got != pt || again {
				t.Fatalf("reseal round trip = %q, usedPrevious=%v, %v", got, again, err)
			}
		case errors.Is(err, ErrMalformed):
			if verr == nil {
				t.Fatalf("Open said malformed (%v) but Validate accepted", err)
			}
			if pt != "" || usedPrevious {
				t.Fatalf("malformed Open returned %q, usedPrevious=%v", pt, usedPrevious)
			}
		case errors.Is(err, ErrTampered):
			if verr != nil {
				t.Fatalf("Open said tampered but Validate failed: %v", verr)
			}
			if pt != "" || usedPrevious {
				t.Fatalf("tampered Open returned %q, usedPrevious=%v", pt, usedPrevious)
			}
		default:
			t.Fatalf("Open returned an undocumented error: %v", err)
		}
	})
}
