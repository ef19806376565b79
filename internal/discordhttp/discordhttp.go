// Package discordhttp builds the discordgo session tzurot uses for REST: its
// HTTP client honours DISCORD_API_BASE (discordgo's endpoints are fixed at
// https://discord.com, so scheme and host are rewritten per request, paths
// unchanged) and is traced with otelhttp. Webhook and interaction calls carry
// their token in the URL, which otelhttp records as url.full and Go's client
// quotes in a *url.Error: spans leave the process through telemetry.Redact,
// and callers pass errors through redact.Error before keeping them.
package discordhttp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/tzurot/tzurot/internal/metrics"
)

// Rewrite sends every request to Base's scheme and host, keeping the path and
// query; requests for other hosts (attachments on a CDN) are left alone.
// Each 429 it sees is counted (tzurot_discord_rate_limited_total). With
// Global set, a global 429 holds every later request to Discord's API
// until its Retry-After has passed (GlobalHold).
type Rewrite struct {
	Base   *url.URL
	Next   http.RoundTripper
	Global *GlobalHold
}

func (t Rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	rewrite := t.rewrites(r.URL)
	api := rewrite || r.URL.Host == "discord.com"
	if rewrite {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = t.Base.Scheme, t.Base.Host
		r.Host = t.Base.Host
	}
	if api && t.Global != nil {
		if err := t.Global.wait(r.Context(), r.URL.Path); err != nil {
			return nil, err
		}
	}
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		// https://discord.com/developers/docs/topics/rate-limits#header-format
		metrics.DiscordRateLimited(resp.Header.Get("X-RateLimit-Scope"))
		if api && t.Global != nil {
			t.Global.saw(resp.Header)
		}
	}
	return resp, err
}

// GlobalHold is the bot's global rate limit as Discord last stated it. A
// 429 with X-RateLimit-Global (or X-RateLimit-Scope global) applies to
// every request of the bot, not to the route it came on, for Retry-After
// seconds (https://discord.com/developers/docs/topics/rate-limits#global-rate-limit);
// discordgo v0.29 sleeps only in the goroutine that met it unless
// X-RateLimit-Reset-After came too, so the transport holds the others.
// Interaction callbacks are exempt, as Discord exempts them. Safe for
// concurrent use; the zero value holds nothing.
type GlobalHold struct {
	mu    sync.Mutex
	until time.Time
}

// maxGlobalHold bounds one hold: a Retry-After past it is Discord's to
// enforce, not a reason to stall every request for minutes.
const maxGlobalHold = time.Minute

// saw records a 429's global hold from its headers.
func (g *GlobalHold) saw(h http.Header) {
	if !strings.EqualFold(h.Get("X-RateLimit-Global"), "true") && !strings.EqualFold(h.Get("X-RateLimit-Scope"), "global") {
		return
	}
	secs, err := strconv.ParseFloat(h.Get("Retry-After"), 64)
	if err != nil || secs <= 0 {
		secs = 1
	}
	until := time.Now().Add(min(time.Duration(secs*float64(time.Second)), maxGlobalHold))
	g.mu.Lock()
	if until.After(g.until) {
		g.until = until
	}
	g.mu.Unlock()
}

// wait blocks until the hold has passed or ctx ends (its error).
func (g *GlobalHold) wait(ctx context.Context, path string) error {
	if strings.Contains(path, "/interactions/") {
		return nil
	}
	g.mu.Lock()
	d := time.Until(g.until)
	g.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rewrites says whether u (one of discordgo's https://discord.com URLs) goes to Base instead.
func (t Rewrite) rewrites(u *url.URL) bool {
	return t.Base != nil && (u.Host == "discord.com" || strings.HasSuffix(u.Host, ".discord.com"))
}

// Dialled is the URL a request for rawURL actually reaches with DISCORD_API_BASE
// apiBase: errors of Go's HTTP client quote the URL discordgo asked for
// (always https://discord.com/…), which is not where the connection went.
// rawURL comes back unchanged when it is not rewritten or does not parse.
func Dialled(rawURL, apiBase string) string {
	u, err := url.Parse(rawURL)
	base, berr := url.Parse(apiBase)
	if err != nil || berr != nil || base.Host == "" || !(Rewrite{Base: base}).rewrites(u) {
		return rawURL
	}
	u.Scheme, u.Host = base.Scheme, base.Host
	return u.String()
}

// Session returns a discordgo session authenticated as the bot, its REST calls
// going to apiBase (https://discord.com in production).
func Session(token, apiBase string) (*discordgo.Session, error) {
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("discord session: %w", err)
	}
	base, err := url.Parse(apiBase)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("DISCORD_API_BASE %q is not a URL such as https://discord.com", apiBase)
	}
	if base.Host == "discord.com" {
		base = nil
	}
	s.Client = &http.Client{
		Timeout:   20 * time.Second,
		Transport: otelhttp.NewTransport(Rewrite{Base: base, Global: &GlobalHold{}}),
	}
	return s, nil
}
