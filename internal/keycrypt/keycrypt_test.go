package keycrypt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// keyA and keyB are the fixed keys in testdata/gen_node_vectors.js; keyC is
// never used to seal anything, so it stands for "some other master key".
const (
	keyA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	keyB = "f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100"
	keyC = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffee0000"
)

// fakeOpenRouterKey looks like a real key so length and charset are
// realistic, but is obviously fake.
var fakeOpenRouterKey = "sk-or-v1-" + strings.Repeat("deadbeef", 8)

type nodeVector struct {
	Name      string `json:"name"`
	Key       string `json:"key"`
	IV        string `json:"iv"`
	Content   string `json:"content"`
	Tag       string `json:"tag"`
	Plaintext string `json:"plaintext"`
}

func (v nodeVector) sealed() Sealed { return Sealed{IV: v.IV, Content: v.Content, Tag: v.Tag} }

func loadNodeVectors(tb testing.TB) []nodeVector {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "node_vectors.json"))
	if err != nil {
		tb.Fatalf("read vectors (regenerate with `node testdata/gen_node_vectors.js`): %v", err)
	}
	var vs []nodeVector
	if err := json.Unmarshal(data, &vs); err != nil {
		tb.Fatalf("parse vectors: %v", err)
	}
	if len(vs) == 0 {
		tb.Fatal("no vectors in testdata/node_vectors.json")
	}
	return vs
}

func mustKeyring(tb testing.TB, current, previous string) *Keyring {
	tb.Helper()
	k, err := NewKeyring(current, previous)
	if err != nil {
		tb.Fatalf("NewKeyring: %v", err)
	}
	return k
}

func mustSeal(tb testing.TB, k *Keyring, plaintext string) Sealed {
	tb.Helper()
	s, err := k.Seal(plaintext)
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return s
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return len(s)%2 == 0
}

// plaintexts are the secrets the seal tests run on.
var plaintexts = []struct {
	name      string
	plaintext string
}{
	{"empty", ""},
	{"openrouter", fakeOpenRouterKey},
	{"unicode", "🔑 clé secrète — 秘密鍵"},
	{"cyrillic", "ключ 🔑"},
	{"one block", strings.Repeat("k", 16)},
	{"long", strings.Repeat("0123456789", 100)},
	{"binary-ish", "\x00\xff\x01\n\t"},
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKeyring(t, keyA, "")
	for _, tt := range plaintexts {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSeal(t, k, tt.plaintext)
			if err := s.Validate(); err != nil {
				t.Fatalf("Validate of fresh seal: %v", err)
			}
			got, err := k.Open(s)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got != tt.plaintext {
				t.Fatalf("Open = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestSealFormat(t *testing.T) {
	k := mustKeyring(t, keyA, "")
	for _, tt := range plaintexts {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSeal(t, k, tt.plaintext)
			for field, v := range map[string]string{"iv": s.IV, "content": s.Content, "tag": s.Tag} {
				if !isLowerHex(v) {
					t.Errorf("%s = %q, want lower-case hex", field, v)
				}
			}
			iv, _ := hex.DecodeString(s.IV)
			if len(iv) != IVSize {
				t.Errorf("iv is %d bytes, want %d", len(iv), IVSize)
			}
			tag, _ := hex.DecodeString(s.Tag)
			if len(tag) != TagSize {
				t.Errorf("tag is %d bytes, want %d", len(tag), TagSize)
			}
			// Content excludes the tag: GCM is a stream mode, so it is exactly
			// as long as the plaintext.
			if got, want := len(s.Content), 2*len(tt.plaintext); got != want {
				t.Errorf("content is %d hex chars, want %d", got, want)
			}
		})
	}
}

func TestSealRandomIV(t *testing.T) {
	k := mustKeyring(t, keyA, "")
	seen := make(map[string]bool)
	for i := 0; i < 100; i++ {
		s := mustSeal(t, k, fakeOpenRouterKey)
		if seen[s.IV] {
			t.Fatalf("iv %s repeated after %d seals", s.IV, i)
		}
		seen[s.IV] = true
	}
	a, b := mustSeal(t, k, fakeOpenRouterKey), mustSeal(t, k, fakeOpenRouterKey)
	if a.Content == b.Content || a.Tag == b.Tag {
		t.Fatal("two seals of the same plaintext produced the same content or tag")
	}
}

func TestNodeVectors(t *testing.T) {
	vs := loadNodeVectors(t)
	ivSizes := make(map[int]int)
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			iv, err := hex.DecodeString(v.IV)
			if err != nil {
				t.Fatalf("vector iv: %v", err)
			}
			ivSizes[len(iv)]++

			k := mustKeyring(t, v.Key, "")
			got, usedPrevious, err := k.OpenWithKeyInfo(v.sealed())
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got != v.Plaintext || usedPrevious {
				t.Fatalf("Open = %q, usedPrevious=%v; want %q, false", got, usedPrevious, v.Plaintext)
			}

			// Byte-for-byte equality proves Go and Node agree on the 16-byte
			// IV derivation too, not only that Go can read what Node wrote.
			want := v.sealed()
			if got := sealWithIV(k.current.forIV(iv), iv, v.Plaintext); got != want {
				t.Fatalf("Go seal with the vector's iv = %+v, want %+v", [3]string{got.IV, got.Content, got.Tag}, [3]string{want.IV, want.Content, want.Tag})
			}
		})
	}
	if ivSizes[IVSize] == 0 || ivSizes[LegacyIVSize] == 0 {
		t.Fatalf("vectors cover iv sizes %v, want both %d and %d", ivSizes, IVSize, LegacyIVSize)
	}
}

func TestOpenKeyFallback(t *testing.T) {
	sealedA := mustSeal(t, mustKeyring(t, keyA, ""), fakeOpenRouterKey)
	var legacyA Sealed // a Node-written 16-byte-IV row sealed under keyA
	for _, v := range loadNodeVectors(t) {
		if v.Key == keyA && v.Plaintext == fakeOpenRouterKey && len(v.IV) == 2*LegacyIVSize {
			legacyA = v.sealed()
		}
	}
	if legacyA == (Sealed{}) {
		t.Fatal("no 16-byte-iv keyA vector for the fake openrouter key")
	}

	tests := []struct {
		name              string
		current, previous string
		sealed            Sealed
		wantPrevious      bool
		wantErr           error
	}{
		{"current key", keyA, "", sealedA, false, nil},
		{"current key with previous set", keyA, keyB, sealedA, false, nil},
		{"falls back to previous", keyB, keyA, sealedA, true, nil},
		{"legacy iv falls back to previous", keyB, keyA, legacyA, true, nil},
		{"wrong key no previous", keyB, "", sealedA, false, ErrTampered},
		{"neither key", keyB, keyC, sealedA, false, ErrTampered},
		{"legacy iv neither key", keyB, keyC, legacyA, false, ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := mustKeyring(t, tt.current, tt.previous)
			got, usedPrevious, err := k.OpenWithKeyInfo(tt.sealed)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != "" || usedPrevious {
					t.Fatalf("failed Open returned %q, usedPrevious=%v", got, usedPrevious)
				}
				if _, err := k.Open(tt.sealed); !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenWithKeyInfo: %v", err)
			}
			if got != fakeOpenRouterKey || usedPrevious != tt.wantPrevious {
				t.Fatalf("got %q, usedPrevious=%v; want %q, %v", got, usedPrevious, fakeOpenRouterKey, tt.wantPrevious)
			}
			if got, err := k.Open(tt.sealed); err != nil || got != fakeOpenRouterKey {
				t.Fatalf("Open = %q, %v", got, err)
			}
		})
	}
}

// flipHexByte flips the low bit of byte i of a hex string, keeping it valid
// hex of the same length so only authentication can catch it.
func flipHexByte(t *testing.T, s string, i int) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || i >= len(b) {
		t.Fatalf("cannot flip byte %d of %q", i, s)
	}
	b[i] ^= 0x01
	return hex.EncodeToString(b)
}

func TestOpenTampered(t *testing.T) {
	k := mustKeyring(t, keyA, keyB)
	modern := mustSeal(t, k, fakeOpenRouterKey)
	var legacy Sealed
	for _, v := range loadNodeVectors(t) {
		if v.Key == keyB && v.Plaintext == fakeOpenRouterKey && len(v.IV) == 2*LegacyIVSize {
			legacy = v.sealed()
		}
	}
	other := mustSeal(t, k, "a different secret of some length")

	bases := map[string]Sealed{"12-byte iv": modern, "16-byte iv (node)": legacy}
	mutations := []struct {
		name   string
		mutate func(t *testing.T, s Sealed) Sealed
	}{
		{"content first byte", func(t *testing.T, s Sealed) Sealed { s.Content = flipHexByte(t, s.Content, 0); return s }},
		{"content last byte", func(t *testing.T, s Sealed) Sealed {
			s.Content = flipHexByte(t, s.Content, len(s.Content)/2-1)
			return s
		}},
		{"content truncated", func(t *testing.T, s Sealed) Sealed { s.Content = s.Content[:len(s.Content)-2]; return s }},
		{"content extended", func(t *testing.T, s Sealed) Sealed { s.Content += "00"; return s }},
		{"content emptied", func(t *testing.T, s Sealed) Sealed { s.Content = ""; return s }},
		{"tag first byte", func(t *testing.T, s Sealed) Sealed { s.Tag = flipHexByte(t, s.Tag, 0); return s }},
		{"tag last byte", func(t *testing.T, s Sealed) Sealed { s.Tag = flipHexByte(t, s.Tag, TagSize-1); return s }},
		{"iv byte", func(t *testing.T, s Sealed) Sealed { s.IV = flipHexByte(t, s.IV, 3); return s }},
		{"tag from another row", func(t *testing.T, s Sealed) Sealed { s.Tag = other.Tag; return s }},
		{"upper-case hex is not tampering", nil},
	}
	for baseName, base := range bases {
		for _, m := range mutations {
			t.Run(baseName+"/"+m.name, func(t *testing.T) {
				if m.mutate == nil {
					// Hex case carries no information, so a row whose hex was
					// upper-cased by some tool must still open.
					s := Sealed{IV: strings.ToUpper(base.IV), Content: strings.ToUpper(base.Content), Tag: strings.ToUpper(base.Tag)}
					if got, err := k.Open(s); err != nil || got != fakeOpenRouterKey {
						t.Fatalf("Open = %q, %v", got, err)
					}
					return
				}
				s := m.mutate(t, base)
				if err := s.Validate(); err != nil {
					t.Fatalf("mutation should stay well-formed, Validate: %v", err)
				}
				got, err := k.Open(s)
				if !errors.Is(err, ErrTampered) {
					t.Fatalf("Open = %q, %v; want ErrTampered", got, err)
				}
				if errors.Is(err, ErrMalformed) {
					t.Fatalf("err is both tampered and malformed: %v", err)
				}
			})
		}
	}
}

func TestOpenMalformed(t *testing.T) {
	k := mustKeyring(t, keyA, "")
	good := mustSeal(t, k, fakeOpenRouterKey)
	tests := []struct {
		name    string
		mutate  func(s Sealed) Sealed
		wantMsg string
	}{
		{"iv non-hex", func(s Sealed) Sealed { s.IV = "zz" + s.IV[2:]; return s }, "iv is not hex: non-hex character at position 0"},
		{"iv odd length", func(s Sealed) Sealed { s.IV = s.IV[1:]; return s }, "iv is not hex: odd number of characters (23)"},
		{"iv empty", func(s Sealed) Sealed { s.IV = ""; return s }, "iv must be 12 or 16 bytes (24 or 32 hex characters), got 0 bytes"},
		{"iv 8 bytes", func(s Sealed) Sealed { s.IV = s.IV[:16]; return s }, "iv must be 12 or 16 bytes (24 or 32 hex characters), got 8 bytes"},
		{"iv 13 bytes", func(s Sealed) Sealed { s.IV += "00"; return s }, "got 13 bytes"},
		{"iv 32 bytes", func(s Sealed) Sealed { s.IV = strings.Repeat("ab", 32); return s }, "got 32 bytes"},
		{"content non-hex", func(s Sealed) Sealed { s.Content = s.Content[:4] + "g" + s.Content[5:]; return s }, "content is not hex: non-hex character at position 4"},
		{"content with spaces", func(s Sealed) Sealed { s.Content = " " + s.Content; return s }, "content is not hex"},
		{"content odd length", func(s Sealed) Sealed { s.Content += "0"; return s }, "content is not hex: odd number of characters"},
		{"tag non-hex", func(s Sealed) Sealed { s.Tag = "0x" + s.Tag[2:]; return s }, "tag is not hex: non-hex character at position 1"},
		{"tag empty", func(s Sealed) Sealed { s.Tag = ""; return s }, "tag must be 16 bytes (32 hex characters), got 0 bytes"},
		{"tag short", func(s Sealed) Sealed { s.Tag = s.Tag[:30]; return s }, "tag must be 16 bytes (32 hex characters), got 15 bytes"},
		{"tag long", func(s Sealed) Sealed { s.Tag += "00"; return s }, "got 17 bytes"},
		{"all empty", func(Sealed) Sealed { return Sealed{} }, "iv must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.mutate(good)
			verr := s.Validate()
			got, err := k.Open(s)
			for what, e := range map[string]error{"Validate": verr, "Open": err} {
				if !errors.Is(e, ErrMalformed) {
					t.Fatalf("%s err = %v, want ErrMalformed", what, e)
				}
				if errors.Is(e, ErrTampered) {
					t.Fatalf("%s err is both malformed and tampered: %v", what, e)
				}
				msg := e.Error()
				if !strings.HasPrefix(msg, "sealed key is malformed: ") || !strings.Contains(msg, tt.wantMsg) {
					t.Fatalf("%s err = %q, want it to contain %q", what, msg, tt.wantMsg)
				}
				if strings.Contains(msg, "\n") {
					t.Fatalf("%s err spans lines: %q", what, msg)
				}
				for _, field := range []string{s.Content, s.Tag} {
					if len(field) >= 8 && strings.Contains(msg, field) {
						t.Fatalf("%s err echoes a sealed field: %q", what, msg)
					}
				}
			}
			if got != "" {
				t.Fatalf("failed Open returned %q", got)
			}
		})
	}
}

func TestValidateAcceptsStoredShapes(t *testing.T) {
	for _, v := range loadNodeVectors(t) {
		if err := v.sealed().Validate(); err != nil {
			t.Errorf("%s: Validate: %v", v.Name, err)
		}
	}
}

func TestParseMasterKey(t *testing.T) {
	const name = "SOME_KEY_VAR"
	tests := []struct {
		name    string
		input   string
		want    string // hex of the expected key when valid
		wantErr string
	}{
		{"empty", "", "", "SOME_KEY_VAR is not set: generate one with `openssl rand -hex 32`"},
		{"only whitespace", " \n\t", "", "SOME_KEY_VAR is not set"},
		{"too short", "0123456789", "", "SOME_KEY_VAR must be 64 hex characters (32 bytes), got 10 characters: generate one with `openssl rand -hex 32`"},
		{"one short", keyA[:63], "", "got 63 characters"},
		{"too long", keyA + "00", "", "got 66 characters"},
		{"base64 of 32 bytes", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "", "got 44 characters"},
		{"non-hex", keyA[:10] + "xyz" + keyA[13:], "", "SOME_KEY_VAR must contain only hex characters (0-9, a-f), found a non-hex character at position 10"},
		{"0x prefix", "0x" + keyA[2:], "", "position 1"},
		{"inner space", keyA[:32] + " " + keyA[33:], "", "position 32"},
		{"valid lower-case", keyA, keyA, ""},
		{"valid upper-case", strings.ToUpper(keyB), keyB, ""},
		{"valid with trailing newline", keyA + "\n", keyA, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMasterKey(name, tt.input)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if hex.EncodeToString(got) != tt.want {
					t.Fatalf("key = %x, want %s", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got key %x, want error", got)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) {
				t.Fatalf("err = %q, want it to contain %q", msg, tt.wantErr)
			}
			if strings.Contains(msg, "\n") {
				t.Fatalf("err spans lines: %q", msg)
			}
			if in := strings.TrimSpace(tt.input); len(in) >= 4 && strings.Contains(msg, in) {
				t.Fatalf("err echoes the key: %q", msg)
			}
			// Even a fragment of the key is a leak.
			if in := strings.TrimSpace(tt.input); len(in) >= 8 {
				for i := 0; i+8 <= len(in); i++ {
					if strings.Contains(msg, in[i:i+8]) {
						t.Fatalf("err echoes part of the key (%q): %q", in[i:i+8], msg)
					}
				}
			}
		})
	}
}

func TestNewKeyring(t *testing.T) {
	tests := []struct {
		name              string
		current, previous string
		wantPrevious      bool
		wantErrPrefix     string
	}{
		{"current only", keyA, "", false, ""},
		{"current and previous", keyA, keyB, true, ""},
		{"whitespace previous means none", keyA, "  ", false, ""},
		{"missing current", "", keyB, false, "APP_MASTER_KEY is not set: "},
		{"bad current", "abc", "", false, "APP_MASTER_KEY must be 64 hex characters"},
		{"bad previous", keyA, keyB[:40], false, "APP_MASTER_KEY_PREVIOUS must be 64 hex characters"},
		{"non-hex previous", keyA, strings.Repeat("q", 64), false, "APP_MASTER_KEY_PREVIOUS must contain only hex characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKeyring(tt.current, tt.previous)
			if tt.wantErrPrefix != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErrPrefix) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErrPrefix)
				}
				if k != nil {
					t.Fatal("non-nil keyring returned with error")
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if k.HasPrevious() != tt.wantPrevious {
				t.Fatalf("HasPrevious = %v, want %v", k.HasPrevious(), tt.wantPrevious)
			}
		})
	}
}

func TestSecretsStayOutOfLogsAndFormatting(t *testing.T) {
	k := mustKeyring(t, keyA, keyB)
	s := mustSeal(t, k, fakeOpenRouterKey)

	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("stored key", "sealed", s, "keyring", k, "keyring_value", *k)
	logger.Info("grouped", slog.Group("row", "sealed", s))
	out := buf.String()
	out += fmt.Sprintf("%v %+v %#v %s", s, s, s, s)
	out += fmt.Sprintf("%v %+v %#v", k, k, k)
	out += fmt.Sprintf("%v %+v %#v", *k, *k, *k)

	if !strings.Contains(out, "[sealed]") {
		t.Fatalf("expected redacted marker in %s", out)
	}
	for what, secret := range map[string]string{"iv": s.IV, "content": s.Content, "tag": s.Tag, "current key": keyA, "previous key": keyB} {
		if strings.Contains(out, secret) {
			t.Fatalf("%s leaked into output: %s", what, out)
		}
	}
	// The AES key schedule is equivalent to the key and would print as
	// decimal byte lists, so every format of a Keyring must be the summary.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{k, *k} {
			if got, want := fmt.Sprintf(verb, v), "keycrypt.Keyring{current, previous}"; got != want {
				t.Errorf("Sprintf(%q, %T) = %q, want %q", verb, v, got, want)
			}
		}
	}

	// JSON is the storage path and must keep the real fields.
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Sealed
	if err := json.Unmarshal(data, &back); err != nil || back != s {
		t.Fatalf("json round trip = %+v, %v", back, err)
	}
	if !strings.Contains(string(data), `"content":"`+s.Content+`"`) {
		t.Fatalf("json lost the content field: %s", data)
	}
}

func TestKeyringConcurrentUse(t *testing.T) {
	k := mustKeyring(t, keyA, keyB)
	legacy := loadNodeVectors(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				pt := fmt.Sprintf("%s-%d-%d", fakeOpenRouterKey, g, i)
				s, err := k.Seal(pt)
				if err != nil {
					errs <- err
					return
				}
				if got, err := k.Open(s); err != nil || got != pt {
					errs <- fmt.Errorf("open = %q, %v", got, err)
					return
				}
				v := legacy[(g+i)%len(legacy)]
				if v.Key != keyA && v.Key != keyB {
					continue
				}
				if got, err := k.Open(v.sealed()); err != nil || got != v.Plaintext {
					errs <- fmt.Errorf("%s: open = %q, %v", v.Name, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
