package openrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/tzurot/tzurot/internal/llmparams"
	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/redact"
)

// DefaultBaseURL is OpenRouter's API root, the default for OPENROUTER_BASE_URL.
const DefaultBaseURL = "https://openrouter.ai/api/v1"

// DefaultTimeout bounds one call when Options.Timeout is zero. Reasoning
// models can think for minutes before the first token, so it is long; it
// exists so a stuck connection cannot hold a worker slot forever.
const DefaultTimeout = 3 * time.Minute

// Options configures a Client. The zero value talks to OpenRouter itself.
type Options struct {
	// BaseURL is the API root (OPENROUTER_BASE_URL); empty means
	// DefaultBaseURL. A trailing slash is fine.
	BaseURL string
	// HTTPClient is used for every call; its Transport, if any, becomes the
	// base under this package's OpenRouter layer. The Client works on a
	// copy, so the caller's value is never modified. Nil means a client
	// with dial and TLS timeouts suited to a long-running worker.
	HTTPClient *http.Client
	// Transport, if set, is the base transport instead of HTTPClient's.
	// It is where the product puts otelhttp.
	Transport http.RoundTripper
	// Referer and Title are OpenRouter's app attribution (HTTP-Referer and
	// X-Title headers). Empty ones are not sent.
	Referer, Title string
	// Timeout bounds each call, applied through the context so it also
	// covers reading the body. Zero means DefaultTimeout; negative means
	// none beyond the caller's context and HTTPClient.Timeout.
	Timeout time.Duration
}

// Client calls OpenRouter. It holds no per-user state and is safe for
// concurrent use; each call names the key it runs with.
type Client struct {
	baseURL string
	http    *http.Client
	timeout time.Duration
}

// New returns a Client for opts.
func New(opts Options) *Client {
	base := opts.Transport
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
		if base == nil {
			base = hc.Transport
		}
	}
	if base == nil {
		if opts.HTTPClient != nil {
			base = http.DefaultTransport
		} else {
			base = defaultTransport()
		}
	}
	hc.Transport = &transport{base: base, referer: opts.Referer, title: opts.Title}

	baseURL := strings.TrimRight(opts.BaseURL, "/")
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Client{baseURL: baseURL, http: &hc, timeout: timeout}
}

// defaultTransport bounds the phases that should be quick (connecting, TLS)
// but not the wait for the answer, which DefaultTimeout governs: a model may
// legitimately take minutes before the first byte.
func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.IdleConnTimeout = 90 * time.Second
	// Every call goes to one host; the default of 2 idle connections per
	// host would mean a fresh TLS handshake for most concurrent replies.
	t.MaxIdleConnsPerHost = 32
	return t
}

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout > 0 {
		return context.WithTimeout(ctx, c.timeout)
	}
	return context.WithCancel(ctx)
}

// KeyInfo is OpenRouter's description of a key (GET /key).
type KeyInfo struct {
	// Label is OpenRouter's masked form of the key, or the user's name for it.
	Label string
	// Limit is the credit limit in USD; nil means unlimited.
	Limit *float64
	// LimitRemaining is what is left of Limit; nil means unlimited.
	LimitRemaining *float64
	// Usage is the USD spent with the key so far.
	Usage      float64
	IsFreeTier bool
}

// maxKeyBody bounds the /key answer, which is a few hundred bytes.
const maxKeyBody = 1 << 20

// CheckKey proves a key works by asking GET /key, which authenticates. The
// model list would not do: it is public and answers any key, or none.
//
// A 401 is an *Error of KindInvalidKey. A key whose limit is used up returns
// its KeyInfo together with an *Error of KindNoCredits, so the caller can both
// reject it and say how it stands.
func (c *Client) CheckKey(ctx context.Context, apiKey string) (KeyInfo, error) {
	if apiKey == "" {
		return KeyInfo{}, &Error{Kind: KindInvalidKey, Message: "no api key given"}
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+provider.OpenRouterCheckPath, nil)
	if err != nil {
		// Only a malformed base URL gets here; it contains no key.
		return KeyInfo{}, fmt.Errorf("openrouter: building key request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		return KeyInfo{}, transportError(err, apiKey)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyBody))
	if err != nil {
		return KeyInfo{}, transportError(err, apiKey)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return KeyInfo{}, statusError(resp.StatusCode, resp.Header, body, "", apiKey, nil)
	}

	var doc struct {
		Data *struct {
			Label          string   `json:"label"`
			Limit          *float64 `json:"limit"`
			LimitRemaining *float64 `json:"limit_remaining"`
			Usage          float64  `json:"usage"`
			IsFreeTier     bool     `json:"is_free_tier"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return KeyInfo{}, transportError(err, apiKey)
	}
	if doc.Data == nil {
		if env, ok := parseEnvelope(body); ok {
			return KeyInfo{}, inBodyError(env, resp.Header, apiKey)
		}
		return KeyInfo{}, (&Error{Kind: KindTransient, Status: resp.StatusCode, Message: "key response has no data"}).sanitize(apiKey)
	}
	d := doc.Data
	info := KeyInfo{
		Label:          redact.Without(d.Label, apiKey),
		Limit:          d.Limit,
		LimitRemaining: d.LimitRemaining,
		Usage:          d.Usage,
		IsFreeTier:     d.IsFreeTier,
	}
	if info.LimitRemaining != nil && *info.LimitRemaining <= 0 {
		return info, &Error{Kind: KindNoCredits, Message: "the key has no credits left"}
	}
	return info, nil
}

// Message is one chat message. Content is plain text.
type Message struct {
	Role    string
	Content string
	// Name distinguishes speakers sharing a role, e.g. Discord users in a
	// channel; providers that ignore it are harmless.
	Name string
}

// ChatRequest is one non-streaming chat completion.
type ChatRequest struct {
	Model    string
	Messages []Message
	// Params is the merged, validated advanced-parameters document; every
	// field it sets is sent as is.
	Params llmparams.Params
	// Modalities asks for output types, e.g. {"image", "text"} for image
	// generation models. Nil sends nothing.
	Modalities []string
}

// ChatResponse is the first choice of a completion.
type ChatResponse struct {
	ID    string
	Model string
	// Provider is the upstream OpenRouter routed the request to.
	Provider  string
	Content   string
	Reasoning string
	// FinishReason is OpenRouter's normalised reason the generation ended:
	// "stop", "length", "content_filter", "tool_calls" or "error"
	// (https://openrouter.ai/docs/api/reference/overview#finish-reason);
	// NativeFinishReason is the upstream model's own word for it
	// ("end_turn", "MAX_TOKENS", "SAFETY", …). Either may be empty.
	FinishReason       string
	NativeFinishReason string
	// Images are data URLs (data:image/png;base64,...).
	Images []string
	Usage  Usage
}

// Usage is OpenRouter's token accounting for one completion.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// ReasoningTokens are included in CompletionTokens.
	ReasoningTokens int
	// Cost is what the call charged the key, in USD; 0 when not reported.
	Cost float64
}

// Chat runs one chat completion with apiKey.
func (c *Client) Chat(ctx context.Context, apiKey string, req ChatRequest) (ChatResponse, error) {
	if apiKey == "" {
		return ChatResponse{}, &Error{Kind: KindInvalidKey, Message: "no api key given"}
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	// Every parameter goes through the transport rather than go-openai's
	// struct: its float32 omitempty fields would round 0.7 and drop an
	// explicit 0, and it has no field at all for most of OpenRouter's.
	extra := req.Params.Map()
	if req.Modalities != nil {
		extra["modalities"] = append([]string(nil), req.Modalities...)
	}
	st := &callState{extra: extra}
	ctx = withState(ctx, st)

	msgs := make([]openai.ChatCompletionMessage, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content, Name: m.Name}
	}
	resp, err := c.openai(apiKey).CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:    req.Model,
		Messages: msgs,
	})
	if err != nil {
		return ChatResponse{}, classify(err, st, apiKey)
	}
	_, header, body := st.result()
	extras := parseExtras(body)
	if e, ok := parseErrorObject(extras.Error); ok {
		return ChatResponse{}, inBodyError(e, header, apiKey)
	}
	if len(resp.Choices) == 0 {
		return ChatResponse{}, (&Error{Kind: KindTransient, Status: http.StatusOK, Message: "the response has no choices"}).sanitize(apiKey)
	}
	if len(extras.Choices) > 0 {
		if e, ok := parseErrorObject(extras.Choices[0].Error); ok {
			err := inBodyError(e, header, apiKey)
			if oe, ok := AsError(err); ok {
				oe.Model = resp.Model
				oe.Usage = Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens,
					TotalTokens: resp.Usage.TotalTokens, Cost: extras.Usage.Cost}
			}
			return ChatResponse{}, err
		}
	}

	choice := resp.Choices[0]
	out := ChatResponse{
		ID:           resp.ID,
		Model:        resp.Model,
		Provider:     extras.Provider,
		Content:      messageText(choice.Message),
		Reasoning:    choice.Message.ReasoningContent,
		FinishReason: string(choice.FinishReason),
		Usage: Usage{
			PromptTokens:     resp.Usage.PromptTokens,
			CompletionTokens: resp.Usage.CompletionTokens,
			TotalTokens:      resp.Usage.TotalTokens,
			Cost:             extras.Usage.Cost,
		},
	}
	if d := resp.Usage.CompletionTokensDetails; d != nil {
		out.Usage.ReasoningTokens = d.ReasoningTokens
	}
	if len(extras.Choices) > 0 {
		out.NativeFinishReason = extras.Choices[0].NativeFinishReason
		m := extras.Choices[0].Message
		if m.Reasoning != nil && *m.Reasoning != "" {
			out.Reasoning = *m.Reasoning
		}
		for _, img := range m.Images {
			if img.ImageURL.URL != "" {
				out.Images = append(out.Images, img.ImageURL.URL)
			}
		}
	}
	return out, nil
}

// openai returns a go-openai client bound to one key. Building one per call
// is cheap (it is a config struct) and keeps keys out of shared state.
func (c *Client) openai(apiKey string) *openai.Client {
	cfg := openai.DefaultConfig(apiKey)
	cfg.BaseURL = c.baseURL
	cfg.HTTPClient = c.http
	return openai.NewClientWithConfig(cfg)
}

// messageText also accepts content sent as an array of parts, which some
// providers return through OpenRouter.
func messageText(m openai.ChatCompletionMessage) string {
	if m.Content != "" || len(m.MultiContent) == 0 {
		return m.Content
	}
	var parts []string
	for _, p := range m.MultiContent {
		if p.Type == openai.ChatMessagePartTypeText {
			parts = append(parts, p.Text)
		}
	}
	return strings.Join(parts, "")
}

// rawCompletion is the part of OpenRouter's completion go-openai drops.
type rawCompletion struct {
	Provider string          `json:"provider"`
	Error    json.RawMessage `json:"error"`
	Usage    struct {
		Cost float64 `json:"cost"`
	} `json:"usage"`
	Choices []rawChoice `json:"choices"`
}

type rawChoice struct {
	// Error is set, with finish_reason "error", when the upstream failed
	// mid-generation.
	Error              json.RawMessage `json:"error"`
	NativeFinishReason string          `json:"native_finish_reason"`
	Message            struct {
		Reasoning *string `json:"reasoning"`
		Images    []struct {
			ImageURL struct {
				URL string `json:"url"`
			} `json:"image_url"`
		} `json:"images"`
	} `json:"message"`
}

// parseExtras decodes the way go-openai does (first JSON value, trailing
// data ignored) so both read the same document. A surprise in the type of
// an extra field must not throw away a reply go-openai read fine, so on
// failure it retries with only the error objects, which are all it must
// not miss.
func parseExtras(body []byte) rawCompletion {
	var full rawCompletion
	if json.NewDecoder(bytes.NewReader(body)).Decode(&full) == nil {
		return full
	}
	var errs struct {
		Error   json.RawMessage `json:"error"`
		Choices []struct {
			Error json.RawMessage `json:"error"`
		} `json:"choices"`
	}
	_ = json.NewDecoder(bytes.NewReader(body)).Decode(&errs)
	out := rawCompletion{Error: errs.Error, Choices: make([]rawChoice, len(errs.Choices))}
	for i, ch := range errs.Choices {
		out.Choices[i].Error = ch.Error
	}
	return out
}
