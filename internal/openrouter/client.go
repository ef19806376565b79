package openrouter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tzurot/tzurot/internal/metrics"
)

// DefaultBaseURL is OpenRouter's API root, the default for OPENROUTER_BASE_URL.
const DefaultBaseURL = "https://openrouter.ai/api/v1"

// DefaultTimeout bounds one call when Options.Timeout is zero. Reasoning
// models can think for minutes before the first token, so it is long; it
// exists so a stuck connection cannot hold a worker slot forever.
const DefaultTimeout = 3 * time.Minute

// maxResponseBody bounds what one call may buffer. Image replies arrive as
// base64 data URLs, a few MiB each, so the limit is generous; it exists so a
// misbehaving upstream cannot exhaust the worker's memory.
const maxResponseBody = 64 << 20

// errResponseTooLarge is classified transient: the same request may well
// produce a smaller answer next time.
var errResponseTooLarge = fmt.Errorf("response body larger than %d MiB", maxResponseBody>>20)

// Options configures a Client. The zero value talks to OpenRouter itself.
type Options struct {
	// BaseURL is the API root (OPENROUTER_BASE_URL); empty means
	// DefaultBaseURL. A trailing slash is fine.
	BaseURL string
	// HTTPClient is used for every call. The Client works on a copy, so
	// the caller's value is never modified. Nil means a client with dial
	// and TLS timeouts suited to a long-running worker.
	HTTPClient *http.Client
	// Transport, if set, replaces HTTPClient's transport. It is where the
	// product puts otelhttp.
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
// concurrent use; each call names the key it runs with, and everything one
// call learns stays in that call's local variables.
type Client struct {
	baseURL        string
	http           *http.Client
	timeout        time.Duration
	referer, title string
}

// New returns a Client for opts.
func New(opts Options) *Client {
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	if opts.Transport != nil {
		hc.Transport = opts.Transport
	}
	if opts.HTTPClient == nil && hc.Transport == nil {
		hc.Transport = defaultTransport()
	}

	baseURL := strings.TrimRight(opts.BaseURL, "/")
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Client{baseURL: baseURL, http: &hc, timeout: timeout, referer: opts.Referer, title: opts.Title}
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

// call is the client's edge, which every exported method goes through: it
// refuses an empty key, applies the timeout, and passes every error do
// returns through [scrub] once, so no error leaves the package holding
// apiKey, however deep in its chain the key was echoed.
func call[T any](ctx context.Context, c *Client, apiKey string, do func(ctx context.Context) (T, error)) (T, error) {
	if apiKey == "" {
		var zero T
		return zero, &Error{Kind: KindInvalidKey, Message: "no api key given"}
	}
	var cancel context.CancelFunc
	if c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	v, err := do(ctx)
	return v, scrub(err, apiKey)
}

// timed starts timing one request for model; the function it returns
// records it in tzurot_provider_request_duration_seconds, answered when *err
// is nil, under the model that answered (*answered, the response's model,
// when it is not empty) else the one requested: the same label as the
// usage rows' tokens and cost and the TzurotModel attribute, so a router
// such as openrouter/free is shown as the model it routed to. A request
// OpenRouter refused as malformed or for an unknown model is recorded
// under the model "invalid": the model is a user's free text (/config),
// and only names OpenRouter serves may become label values.
func timed(model string) func(answered *string, err *error) {
	start := time.Now()
	return func(answered *string, err *error) {
		label := model
		if answered != nil && *answered != "" {
			label = *answered
		}
		if oe, ok := AsError(*err); ok && (oe.Kind == KindUnknownModel || oe.Kind == KindBadRequest) {
			label = "invalid"
		}
		metrics.ObserveProviderRequest(metrics.ProviderOpenRouter, label, *err == nil, time.Since(start).Seconds())
	}
}

// exchange is one HTTP answer, its body read whole (at most maxResponseBody).
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// send makes one request to path under the base URL with apiKey, body (JSON;
// nil for none) and the attribution headers. A non-2xx answer comes back
// with its *Error from [statusError]; a request that got no answer, with
// one from [transportError].
func (c *Client) send(ctx context.Context, method, path, apiKey string, body []byte) (exchange, error) {
	resp, err := c.open(ctx, method, path, apiKey, "application/json", body)
	if err != nil {
		return exchange{}, err
	}
	defer resp.Body.Close()
	return readAnswer(resp)
}

// readAnswer reads a whole answer (at most maxResponseBody) and classifies
// a non-2xx one by [statusError].
func readAnswer(resp *http.Response) (exchange, error) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return exchange{}, transportError(err)
	}
	if len(raw) > maxResponseBody {
		return exchange{}, transportError(errResponseTooLarge)
	}
	ex := exchange{status: resp.StatusCode, header: resp.Header, body: raw}
	if ex.status < 200 || ex.status >= 300 {
		return ex, statusError(ex)
	}
	return ex, nil
}

// open sends one request to path under the base URL with apiKey, the
// Accept header accept, body (JSON; nil for none) and the attribution
// headers, and returns the answer with its body unread (the caller closes
// it). A request that got no answer fails with [transportError]'s *Error.
func (c *Client) open(ctx context.Context, method, path, apiKey, accept string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		// A *bytes.Reader lets net/http replay the body on a 307 or 308.
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, rd)
	if err != nil {
		// Only a malformed base URL gets here.
		return nil, fmt.Errorf("openrouter: building the request (check OPENROUTER_BASE_URL): %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.referer != "" {
		req.Header.Set("HTTP-Referer", c.referer)
	}
	if c.title != "" {
		req.Header.Set("X-Title", c.title)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(err)
	}
	return resp, nil
}
