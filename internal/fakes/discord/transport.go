package discord

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// RewriteTransport sends every request to Target instead of the host in its
// URL. discordgo hard-codes https://discord.com (and the CDN) in package
// variables; swapping the session's transport redirects it without touching
// global state, so parallel tests can each use their own fake.
//
// Scheme and host are replaced and Target's path, if any, is prepended, so
// a fake mounted under a prefix works too. The original request is not
// modified.
type RewriteTransport struct {
	// Base performs the rewritten request; nil means http.DefaultTransport.
	Base   http.RoundTripper
	Target *url.URL
}

func (t *RewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.Target == nil {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, errors.New("rewrite transport: no target url")
	}
	out := r.Clone(r.Context())
	out.URL.Scheme = t.Target.Scheme
	out.URL.Host = t.Target.Host
	if prefix := strings.TrimSuffix(t.Target.Path, "/"); prefix != "" {
		out.URL.Path = prefix + r.URL.Path
		if r.URL.RawPath != "" {
			out.URL.RawPath = strings.TrimSuffix(t.Target.EscapedPath(), "/") + r.URL.RawPath
		}
	}
	// The Host header would otherwise still say discord.com.
	out.Host = ""
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}
