// Package keycrypt seals and opens users' API keys with AES-256-GCM in the
// format stored in the user_api_keys table (iv, content and tag as lower-case
// hex), so that rows written by the previous Node/TypeScript service and rows
// written by this service are interchangeable.
//
// The master key comes from APP_MASTER_KEY. A Keyring may also hold the
// previous master key so that, during a key rotation, rows sealed under the
// old key still open while they are being re-sealed under the new one.
package keycrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Environment variable names, used in error messages so that an operator
// knows which setting to fix.
const (
	MasterKeyEnv         = "APP_MASTER_KEY"
	PreviousMasterKeyEnv = "APP_MASTER_KEY_PREVIOUS"
)

const (
	// KeySize is the AES-256 key length in bytes.
	KeySize = 32
	// IVSize is the nonce length used for new rows: 12 bytes is GCM's native
	// nonce size and avoids the extra GHASH step that other sizes need.
	IVSize = 12
	// LegacyIVSize is the nonce length the Node service used; those rows must
	// keep opening, so it is accepted on Open but never produced by Seal.
	LegacyIVSize = 16
	// TagSize is the GCM tag length; Node's default and the only one stored.
	TagSize = 16
)

const keyHint = "generate one with `openssl rand -hex 32`"

var (
	// ErrTampered means no configured master key authenticates the sealed
	// value. Callers cannot tell a modified row from one sealed under an
	// unknown key, and should not try: both mean the stored key is unusable.
	ErrTampered = errors.New("sealed key failed authentication: it was altered or sealed with a different master key")

	// ErrMalformed means the sealed value cannot be a valid ciphertext at all
	// (bad hex, wrong IV or tag length), which points at a storage or
	// migration bug rather than a key problem.
	ErrMalformed = errors.New("sealed key is malformed")
)

// Sealed is a secret in the stored user_api_keys format.
type Sealed struct {
	IV      string `json:"iv"`
	Content string `json:"content"`
	Tag     string `json:"tag"`
}

// LogValue keeps sealed values out of logs: the ciphertext is useless
// without the master key, but logging it invites copying it elsewhere and
// makes offline attacks against a leaked master key easier.
func (s Sealed) LogValue() slog.Value {
	return slog.StringValue("[sealed]")
}

// String stops fmt and %v-style logging from printing the fields, for the
// same reason as LogValue.
func (s Sealed) String() string { return "[sealed]" }

// GoString covers %#v, which would otherwise bypass String.
func (s Sealed) GoString() string { return "keycrypt.Sealed{[sealed]}" }

// Validate reports whether s has the shape of a stored value, without
// needing a key. It returns an error wrapping ErrMalformed.
func (s Sealed) Validate() error {
	_, _, _, err := s.decode()
	return err
}

func (s Sealed) decode() (iv, content, tag []byte, err error) {
	if iv, err = decodeHex("iv", s.IV); err != nil {
		return nil, nil, nil, err
	}
	if len(iv) != IVSize && len(iv) != LegacyIVSize {
		return nil, nil, nil, fmt.Errorf("%w: iv must be %d or %d bytes (%d or %d hex characters), got %d bytes",
			ErrMalformed, IVSize, LegacyIVSize, 2*IVSize, 2*LegacyIVSize, len(iv))
	}
	if content, err = decodeHex("content", s.Content); err != nil {
		return nil, nil, nil, err
	}
	if tag, err = decodeHex("tag", s.Tag); err != nil {
		return nil, nil, nil, err
	}
	if len(tag) != TagSize {
		return nil, nil, nil, fmt.Errorf("%w: tag must be %d bytes (%d hex characters), got %d bytes",
			ErrMalformed, TagSize, 2*TagSize, len(tag))
	}
	return iv, content, tag, nil
}

// decodeHex reports the position of the first bad character instead of the
// character itself, so that no part of a value ends up in an error message.
func decodeHex(field, s string) ([]byte, error) {
	if i := firstNonHex(s); i >= 0 {
		return nil, fmt.Errorf("%w: %s is not hex: non-hex character at position %d", ErrMalformed, field, i)
	}
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("%w: %s is not hex: odd number of characters (%d)", ErrMalformed, field, len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		// Unreachable after the checks above; kept so a change in encoding/hex
		// cannot turn into a silent success.
		return nil, fmt.Errorf("%w: %s is not hex", ErrMalformed, field)
	}
	return b, nil
}

func firstNonHex(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return i
		}
	}
	return -1
}

// ParseMasterKey validates a 64-hex-character master key and returns its 32
// bytes. name is the variable the key came from, used only in error
// messages; the key itself never appears in them because errors get logged.
// Surrounding whitespace is ignored since .env files and secret stores often
// add a trailing newline.
func ParseMasterKey(name, hexKey string) ([]byte, error) {
	hexKey = strings.TrimSpace(hexKey)
	if hexKey == "" {
		return nil, fmt.Errorf("%s is not set: %s and set %s to it", name, keyHint, name)
	}
	if len(hexKey) != 2*KeySize {
		return nil, fmt.Errorf("%s must be %d hex characters (%d bytes), got %d characters: %s",
			name, 2*KeySize, KeySize, len(hexKey), keyHint)
	}
	if i := firstNonHex(hexKey); i >= 0 {
		return nil, fmt.Errorf("%s must contain only hex characters (0-9, a-f), found a non-hex character at position %d: %s",
			name, i, keyHint)
	}
	key, err := hex.DecodeString(hexKey)
	if err != nil {
		return nil, fmt.Errorf("%s is not valid hex: %s", name, keyHint)
	}
	return key, nil
}

// aeadPair holds one master key in both nonce sizes, built once so Open does
// not re-derive the AES key schedule on every call.
type aeadPair struct {
	iv12 cipher.AEAD
	iv16 cipher.AEAD
}

func newAEADPair(key []byte) (*aeadPair, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create aes cipher: %w", err)
	}
	iv12, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create gcm: %w", err)
	}
	iv16, err := cipher.NewGCMWithNonceSize(block, LegacyIVSize)
	if err != nil {
		return nil, fmt.Errorf("create gcm with %d-byte iv: %w", LegacyIVSize, err)
	}
	return &aeadPair{iv12: iv12, iv16: iv16}, nil
}

func (p *aeadPair) forIV(iv []byte) cipher.AEAD {
	if len(iv) == LegacyIVSize {
		return p.iv16
	}
	return p.iv12
}

// Keyring holds the current master key and optionally the previous one. It
// is immutable after NewKeyring and safe for concurrent use; rotating keys
// means building a new Keyring.
type Keyring struct {
	current  *aeadPair
	previous *aeadPair // nil when no rotation is in progress
}

// NewKeyring parses the current master key and, if previousHex is not empty,
// the previous one.
func NewKeyring(currentHex, previousHex string) (*Keyring, error) {
	cur, err := parseAEAD(MasterKeyEnv, currentHex)
	if err != nil {
		return nil, err
	}
	k := &Keyring{current: cur}
	if strings.TrimSpace(previousHex) != "" {
		if k.previous, err = parseAEAD(PreviousMasterKeyEnv, previousHex); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func parseAEAD(name, hexKey string) (*aeadPair, error) {
	key, err := ParseMasterKey(name, hexKey)
	if err != nil {
		return nil, err
	}
	// The AES key schedule keeps its own copy; wiping ours shortens the time
	// the raw key sits in memory.
	defer clear(key)
	return newAEADPair(key)
}

// HasPrevious reports whether a previous master key is configured, i.e.
// whether a rotation is in progress.
func (k *Keyring) HasPrevious() bool { return k.previous != nil }

// Seal encrypts plaintext under the current master key with a fresh random
// 12-byte IV. GCM loses all confidentiality and integrity if an IV repeats
// under one key, so IVs are never derived from anything else.
func (k *Keyring) Seal(plaintext string) (Sealed, error) {
	iv := make([]byte, IVSize)
	if _, err := rand.Read(iv); err != nil {
		return Sealed{}, fmt.Errorf("generate iv: %w", err)
	}
	return sealWithIV(k.current.iv12, iv, plaintext), nil
}

// sealWithIV exists so tests can compare against fixed-IV vectors produced by
// Node; production code must go through Seal.
func sealWithIV(aead cipher.AEAD, iv []byte, plaintext string) Sealed {
	out := aead.Seal(nil, iv, []byte(plaintext), nil)
	n := len(out) - aead.Overhead()
	return Sealed{
		IV:      hex.EncodeToString(iv),
		Content: hex.EncodeToString(out[:n]),
		Tag:     hex.EncodeToString(out[n:]),
	}
}

// Open decrypts s with the current master key, falling back to the previous
// one. Errors wrap ErrMalformed or ErrTampered.
func (k *Keyring) Open(s Sealed) (string, error) {
	pt, _, err := k.OpenWithKeyInfo(s)
	return pt, err
}

// OpenWithKeyInfo is Open that also reports whether the previous master key
// was needed, so callers can re-seal such rows under the current key and
// eventually retire the previous one.
func (k *Keyring) OpenWithKeyInfo(s Sealed) (plaintext string, usedPrevious bool, err error) {
	iv, content, tag, err := s.decode()
	if err != nil {
		return "", false, err
	}
	// GCM expects ciphertext||tag; the table stores them separately.
	ct := make([]byte, 0, len(content)+len(tag))
	ct = append(append(ct, content...), tag...)

	if pt, err := k.current.forIV(iv).Open(nil, iv, ct, nil); err == nil {
		return string(pt), false, nil
	}
	if k.previous == nil {
		return "", false, fmt.Errorf("open with %s: %w", MasterKeyEnv, ErrTampered)
	}
	if pt, err := k.previous.forIV(iv).Open(nil, iv, ct, nil); err == nil {
		return string(pt), true, nil
	}
	return "", false, fmt.Errorf("open with %s and %s: %w", MasterKeyEnv, PreviousMasterKeyEnv, ErrTampered)
}

// String and LogValue keep the key schedule (which is equivalent to the
// key) out of fmt output and logs. Value receivers so that printing a
// dereferenced Keyring is covered too.
func (k Keyring) String() string {
	if k.previous != nil {
		return "keycrypt.Keyring{current, previous}"
	}
	return "keycrypt.Keyring{current}"
}

// GoString covers %#v, which would otherwise bypass String.
func (k Keyring) GoString() string { return k.String() }

// LogValue: see String.
func (k Keyring) LogValue() slog.Value { return slog.StringValue(k.String()) }
