package payloadcodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func masterKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestRoundTripHidesContent(t *testing.T) {
	c, err := New(masterKey(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	dc := c.DataConverter()
	secret := map[string]string{"content": "my secret message to the personality"}
	p, err := dc.ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("secret message")) || string(p.Metadata[converter.MetadataEncoding]) != Encoding {
		t.Fatalf("payload not encrypted: %q %v", p.Data, p.Metadata)
	}
	var got map[string]string
	if err := dc.FromPayload(p, &got); err != nil {
		t.Fatal(err)
	}
	if got["content"] != secret["content"] {
		t.Fatalf("round trip = %v", got)
	}
}

func TestPlainJSONFromTheCLIPassesThrough(t *testing.T) {
	c, _ := New(masterKey(1), nil)
	plain := &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(`{"discord_user_id":"1"}`),
	}
	var got map[string]string
	if err := c.DataConverter().FromPayload(plain, &got); err != nil || got["discord_user_id"] != "1" {
		t.Fatalf("plain payload: %v %v", got, err)
	}
}

func TestKeys(t *testing.T) {
	old, _ := New(masterKey(1), nil)
	sealedOld, _ := old.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	cases := []struct {
		name    string
		codec   func() *Codec
		wantErr error
	}{
		{"current key", func() *Codec { c, _ := New(masterKey(1), nil); return c }, nil},
		{"rotated, previous kept", func() *Codec { c, _ := New(masterKey(2), masterKey(1)); return c }, nil},
		{"rotated, previous gone", func() *Codec { c, _ := New(masterKey(2), nil); return c }, ErrUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.codec().Decode(sealedOld)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && string(got[0].Data) != "x" {
				t.Fatalf("decoded %q", got[0].Data)
			}
		})
	}
}

func TestTamperedPayloadIsRejected(t *testing.T) {
	c, _ := New(masterKey(1), nil)
	sealed, _ := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	sealed[0].Data[len(sealed[0].Data)-1] ^= 1
	if _, err := c.Decode(sealed); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("err = %v", err)
	}
}

func TestCodecKeyDiffersFromMasterKey(t *testing.T) {
	// The payload key is derived: a payload must not open with the raw master key.
	c, _ := New(masterKey(7), nil)
	if c.current.id == "" {
		t.Fatal("no key id")
	}
	raw, _ := New(masterKey(7), nil)
	if raw.current.id != c.current.id {
		t.Fatal("derivation is not deterministic")
	}
	other, _ := New(masterKey(8), nil)
	if other.current.id == c.current.id {
		t.Fatal("different master keys give the same key id")
	}
}

func TestHTTPHandlerDecodesForTheWebUI(t *testing.T) {
	c, _ := New(masterKey(1), nil)
	p, _ := c.DataConverter().ToPayload(map[string]string{"outcome": "stored"})
	srv := httptest.NewServer(converter.NewPayloadCodecHTTPHandler(c))
	defer srv.Close()
	body, _ := json.Marshal(map[string]any{"payloads": []any{map[string]any{
		"metadata": map[string]string{converter.MetadataEncoding: b64(p.Metadata[converter.MetadataEncoding]), metaKeyID: b64(p.Metadata[metaKeyID])},
		"data":     b64(p.Data),
	}}})
	resp, err := http.Post(srv.URL+"/decode", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Payloads []struct {
			Data string `json:"data"`
		} `json:"payloads"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Payloads) != 1 || unb64(t, out.Payloads[0].Data) != `{"outcome":"stored"}` {
		t.Fatalf("decode endpoint returned %+v", out)
	}
}
