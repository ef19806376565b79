// Package elevenlabs is tzurot's client for the two ElevenLabs endpoints it
// uses: text-to-speech, and GET /v1/user to check that a key authenticates.
// Errors are classified once, here, from the status and the documented
// detail codes, so activities branch on a Kind and never on strings.
package elevenlabs

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/provider"
)

// DefaultBaseURL is the public API.
const DefaultBaseURL = "https://api.elevenlabs.io"

// OutputFormat is what tzurot asks for: MP3, which Discord plays inline.
const OutputFormat = "mp3_44100_128"

// maxAudio bounds a response body; Discord takes 10 MiB per file anyway.
const maxAudio = 10 << 20

// Client calls ElevenLabs. The zero value is not usable; build one with New.
type Client struct {
	base string
	http *http.Client
}

// New returns a client for baseURL (DefaultBaseURL when empty). A nil
// httpClient means one with a 60 s timeout.
func New(baseURL string, httpClient *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), http: httpClient}
}

// VoiceSettings are the sliders of a voice, 0..1 each.
type VoiceSettings struct {
	Stability       float64 `json:"stability"`
	SimilarityBoost float64 `json:"similarity_boost"`
	Style           float64 `json:"style"`
}

// SpeechRequest is one text to speak.
type SpeechRequest struct {
	VoiceID  string
	ModelID  string
	Text     string
	Settings VoiceSettings
}

// Speech is the audio of a request.
type Speech struct {
	Audio []byte
	// ContentType is what ElevenLabs said the audio is (audio/mpeg).
	ContentType string
	// Characters is what the call was billed: the x-character-count header,
	// or the text's length in characters when the header is absent.
	Characters int
	RequestID  string
}

// TextToSpeech synthesises req.Text as MP3.
func (c *Client) TextToSpeech(ctx context.Context, key string, req SpeechRequest) (_ Speech, err error) {
	start := time.Now()
	defer func() {
		metrics.ObserveProviderRequest(metrics.ProviderElevenLabs, cmp.Or(req.ModelID, "default"), err == nil, time.Since(start).Seconds())
	}()
	if strings.TrimSpace(req.VoiceID) == "" || strings.TrimSpace(req.Text) == "" {
		return Speech{}, &Error{Kind: KindBadRequest, Message: "a voice id and some text are required"}
	}
	fields := map[string]any{"text": req.Text, "voice_settings": req.Settings}
	if req.ModelID != "" {
		// Empty means ElevenLabs' own default model.
		fields["model_id"] = req.ModelID
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return Speech{}, err
	}
	u := fmt.Sprintf("%s/v1/text-to-speech/%s?output_format=%s", c.base, url.PathEscape(req.VoiceID), OutputFormat)
	resp, err := c.do(ctx, key, http.MethodPost, u, body, "audio/mpeg")
	if err != nil {
		return Speech{}, err
	}
	defer resp.Body.Close()
	audio, err := io.ReadAll(io.LimitReader(resp.Body, maxAudio+1))
	if err != nil {
		return Speech{}, transportError(err, key)
	}
	if len(audio) > maxAudio {
		return Speech{}, &Error{Kind: KindBadRequest, Status: resp.StatusCode, Message: "the audio is larger than 10 MiB: the text is too long to speak"}
	}
	if len(audio) == 0 {
		return Speech{}, &Error{Kind: KindTransient, Status: resp.StatusCode, Message: "empty audio"}
	}
	chars, err := strconv.Atoi(resp.Header.Get("x-character-count"))
	if err != nil || chars < 0 {
		chars = utf8.RuneCountInString(req.Text)
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "audio/mpeg"
	}
	return Speech{Audio: audio, ContentType: ct, Characters: chars, RequestID: resp.Header.Get("request-id")}, nil
}

// Account is what GET /v1/user says about a key's owner.
type Account struct {
	Tier           string
	CharacterCount int
	CharacterLimit int
	// CanExtend is a plan whose characters can go past the limit
	// (usage-based billing, pay-as-you-go credits).
	CanExtend bool
	// Restricted is a key that authenticates but may not read the user: a
	// scoped key without user_read. It is a real key; its remaining quota is
	// unknown.
	Restricted bool
}

// CheckKey asks an endpoint that authenticates whether the key works.
func (c *Client) CheckKey(ctx context.Context, key string) (Account, error) {
	resp, err := c.do(ctx, key, http.MethodGet, c.base+provider.ElevenLabsCheckPath, nil, "application/json")
	if err != nil {
		if e, ok := AsError(err); ok && e.Kind == KindMissingPermission {
			// ElevenLabs knew the key, or it could not name its permissions.
			return Account{Restricted: true}, nil
		}
		return Account{}, err
	}
	defer resp.Body.Close()
	var u struct {
		Subscription struct {
			Tier           string `json:"tier"`
			CharacterCount int    `json:"character_count"`
			CharacterLimit int    `json:"character_limit"`
			CanExtend      bool   `json:"can_extend_character_limit"`
		} `json:"subscription"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&u); err != nil {
		return Account{}, &Error{Kind: KindTransient, Status: resp.StatusCode, Message: "malformed /v1/user response: " + err.Error()}
	}
	return Account{Tier: u.Subscription.Tier, CharacterCount: u.Subscription.CharacterCount,
		CharacterLimit: u.Subscription.CharacterLimit, CanExtend: u.Subscription.CanExtend}, nil
}

func (c *Client) do(ctx context.Context, key, method, u string, body []byte, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Kind: KindBadRequest, Message: "bad ELEVENLABS_BASE_URL: " + err.Error()}
	}
	req.Header.Set("xi-api-key", key)
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(err, key)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, parseError(resp.StatusCode, resp.Header, raw, key)
}
