// Package payloadcodec encrypts Temporal payloads with AES-256-GCM so that
// workflow history holds no user content or provider error text in clear, and
// serves the same codec over HTTP for the Web UI. The key is derived from
// APP_MASTER_KEY with HKDF (its own purpose, so the stored-key cipher and the
// history cipher never share a key); APP_MASTER_KEY_PREVIOUS still decodes.
// Payloads that arrive unencrypted — plain JSON from the temporal CLI — pass
// through untouched.
package payloadcodec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding marks a payload this codec encrypted.
	Encoding = "binary/encrypted"
	// metaKeyID names the key that sealed a payload, so rotation can decode old history.
	metaKeyID = "encryption-key-id"
	hkdfInfo  = "tzurot temporal payload codec v1"
)

type key struct {
	id   string
	aead cipher.AEAD
}

// Codec is a converter.PayloadCodec; safe for concurrent use.
type Codec struct {
	current  key
	previous *key
}

// New derives the codec's keys from the master keys (raw 32 bytes each;
// previous may be nil).
func New(master, previous []byte) (*Codec, error) {
	cur, err := derive(master)
	if err != nil {
		return nil, err
	}
	c := &Codec{current: cur}
	if len(previous) > 0 {
		prev, err := derive(previous)
		if err != nil {
			return nil, err
		}
		c.previous = &prev
	}
	return c, nil
}

func derive(master []byte) (key, error) {
	if len(master) != 32 {
		return key{}, fmt.Errorf("payload codec needs a 32-byte master key, got %d bytes", len(master))
	}
	k, err := hkdf.Key(sha256.New, master, nil, hkdfInfo, 32)
	if err != nil {
		return key{}, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	sum := sha256.Sum256(append([]byte("key-id:"), k...))
	return key{id: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// Encode encrypts each payload (the whole proto, so its metadata is hidden too).
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("marshal payload: %w", err)
		}
		nonce := make([]byte, c.current.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				metaKeyID:                  []byte(c.current.id),
			},
			Data: c.current.aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// ErrUnknownKey means a payload was sealed with a master key the worker no
// longer has.
var ErrUnknownKey = errors.New("payload was encrypted with a master key this process does not have: set APP_MASTER_KEY_PREVIOUS to the key it was encrypted with")

// Decode decrypts payloads this codec encrypted and passes others through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		k, err := c.keyFor(string(p.GetMetadata()[metaKeyID]))
		if err != nil {
			return nil, err
		}
		ns := k.aead.NonceSize()
		if len(p.Data) < ns {
			return nil, errors.New("encrypted payload is too short: it was truncated or is not ours")
		}
		plain, err := k.aead.Open(nil, p.Data[:ns], p.Data[ns:], nil)
		if err != nil {
			return nil, errors.New("encrypted payload failed authentication: it was altered")
		}
		var dp commonpb.Payload
		if err := proto.Unmarshal(plain, &dp); err != nil {
			return nil, fmt.Errorf("decrypted payload is not a payload: %w", err)
		}
		out[i] = &dp
	}
	return out, nil
}

func (c *Codec) keyFor(id string) (key, error) {
	switch {
	case id == c.current.id:
		return c.current, nil
	case c.previous != nil && id == c.previous.id:
		return *c.previous, nil
	}
	return key{}, ErrUnknownKey
}

// DataConverter is the SDK's default JSON converter behind this codec.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}
