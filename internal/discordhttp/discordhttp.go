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
	if t.Base != nil && (r.URL.Host == "discord.com" || strings.HasSuffix(r.URL.Host, ".discord.com")) {
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
