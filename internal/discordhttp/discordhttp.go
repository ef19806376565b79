// Package discordhttp builds the discordgo session tzurot uses for REST: its
// HTTP client honours DISCORD_API_BASE (discordgo's endpoints are fixed at
// https://discord.com, so scheme and host are rewritten per request, paths
// unchanged) and is traced with otelhttp. Webhook and interaction calls carry
// their token in the URL, which otelhttp records as url.full and Go's client
// quotes in a *url.Error: spans leave the process through telemetry.Redact,
// and callers pass errors through redact.Error before keeping them.
package discordhttp

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/tzurot/tzurot/internal/metrics"
)

// Rewrite sends every request to Base's scheme and host, keeping the path and
// query; requests for other hosts (attachments on a CDN) are left alone.
// Each 429 it sees is counted (tzurot_discord_rate_limited_total).
type Rewrite struct {
	Base *url.URL
	Next http.RoundTripper
}

func (t Rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.rewrites(r.URL) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = t.Base.Scheme, t.Base.Host
		r.Host = t.Base.Host
	}
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		// https://discord.com/developers/docs/topics/rate-limits#header-format
		metrics.DiscordRateLimited(resp.Header.Get("X-RateLimit-Scope"))
	}
	return resp, err
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
		Transport: otelhttp.NewTransport(Rewrite{Base: base}),
	}
	return s, nil
}
