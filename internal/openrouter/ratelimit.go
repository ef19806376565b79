package openrouter

import (
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RateLimit is what OpenRouter said about the limit a 429 hit. Its own
// limits (https://openrouter.ai/docs/api/reference/limits) answer 429 with
// the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers,
// copied into error.metadata.headers, and name the limit in the message:
//
//	{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day",
//	  "metadata":{"headers":{"X-RateLimit-Limit":"50","X-RateLimit-Remaining":"0","X-RateLimit-Reset":"1764547200000"}}}}
//
// The free-model limits (https://openrouter.ai/docs/guides/routing/model-variants/free)
// are per account, not per key: 20 requests a minute, and 50 a day until
// the account has bought at least 10 credits in all, 1000 a day after; the
// day is the UTC day.
type RateLimit struct {
	// Name is the limit the message names ("free-models-per-day",
	// "free-models-per-day-high-balance", "free-models-per-min", …); empty
	// when it names none, as upstream providers' 429s do.
	Name string
	// Limit is X-RateLimit-Limit, requests per window; 0 when not given.
	Limit int
	// Remaining is X-RateLimit-Remaining; -1 when not given.
	Remaining int
	// Reset is X-RateLimit-Reset: when the window starts over; zero when
	// not given.
	Reset time.Time
}

// Daily reports whether the limit is one of OpenRouter's per-day free-model
// caps, which only the next UTC day (or buying credits) lifts.
func (r *RateLimit) Daily() bool {
	return r != nil && strings.HasPrefix(r.Name, "free-models-per-day")
}

// maxRetryAfter caps absurd waits; a Temporal retry scheduled days out is
// worse than trying again sooner and being told to wait once more.
const maxRetryAfter = 24 * time.Hour

// setWait fills RetryAt, RetryAfter and, on a 429, RateLimit from the
// response headers and the error's metadata.
func (e *Error) setWait(h http.Header, now time.Time) {
	if e.Kind == KindRateLimited {
		e.RateLimit = rateLimitOf(h, e.Metadata, e.Message)
	}
	e.RetryAt = retryAt(h, e.Metadata, e.Kind, now)
	if !e.RetryAt.IsZero() {
		e.RetryAfter = min(max(e.RetryAt.Sub(now), 0), maxRetryAfter)
	}
}

// retryAfter is the capped wait of retryAt, 0 when none was given.
func retryAfter(h http.Header, kind Kind, now time.Time) time.Duration {
	at := retryAt(h, nil, kind, now)
	if at.IsZero() {
		return 0
	}
	return min(max(at.Sub(now), 0), maxRetryAfter)
}

// retryAt reads Retry-After (RFC 9110: delay-seconds or HTTP-date), falling
// back for 429s on OpenRouter's X-RateLimit-Reset, which its own limiter
// sends as a header and copies into error.metadata.headers. Zero when
// neither says anything.
func retryAt(h http.Header, meta map[string]any, kind Kind, now time.Time) time.Time {
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		return now.Add(d)
	}
	if d, ok := parseRetryAfter(metaHeader(meta, "Retry-After"), now); ok {
		return now.Add(d)
	}
	if kind != KindRateLimited {
		return time.Time{}
	}
	for _, v := range []string{h.Get("X-RateLimit-Reset"), metaHeader(meta, "X-RateLimit-Reset")} {
		if t, ok := parseReset(v); ok {
			if t.Before(now) {
				return now
			}
			return t
		}
	}
	return time.Time{}
}

// parseReset reads X-RateLimit-Reset. OpenRouter documents epoch
// milliseconds; a value too small to be milliseconds since 2001 is taken as
// epoch seconds, and one too small to be seconds since 2001 (under 10^9) as
// seconds from now, the two forms other limiters send.
func parseReset(v string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	switch {
	case n < 1_000_000_000:
		return time.Now().Add(time.Duration(n) * time.Second), true
	case n < 1_000_000_000_000:
		return time.Unix(n, 0), true
	}
	return time.UnixMilli(n), true
}

// metaHeader is a header OpenRouter copied into error.metadata.headers,
// matched without regard to case; "" when absent.
func metaHeader(meta map[string]any, name string) string {
	hs, _ := meta["headers"].(map[string]any)
	for k, v := range hs {
		if !strings.EqualFold(k, name) {
			continue
		}
		switch v := v.(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ""
}

// limitName finds the limit in "Rate limit exceeded: free-models-per-day. …".
var limitName = regexp.MustCompile(`(?i)rate limit exceeded:\s*([a-z0-9][a-z0-9_-]*)`)

// rateLimitOf gathers what a 429 said about its limit; nil when it said
// nothing at all.
func rateLimitOf(h http.Header, meta map[string]any, message string) *RateLimit {
	get := func(name string) string {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			return v
		}
		return strings.TrimSpace(metaHeader(meta, name))
	}
	r := &RateLimit{Remaining: -1}
	if m := limitName.FindStringSubmatch(message); m != nil {
		r.Name = strings.ToLower(m[1])
	}
	if n, err := strconv.Atoi(get("X-RateLimit-Limit")); err == nil && n > 0 {
		r.Limit = n
	}
	if n, err := strconv.Atoi(get("X-RateLimit-Remaining")); err == nil && n >= 0 {
		r.Remaining = n
	}
	if t, ok := parseReset(get("X-RateLimit-Reset")); ok {
		r.Reset = t
	}
	if r.Name == "" && r.Limit == 0 && r.Remaining < 0 && r.Reset.IsZero() {
		return nil
	}
	return r
}

// parseRetryAfter accepts both RFC 9110 forms, delay-seconds and HTTP-date,
// plus fractional seconds, which some proxies send.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		if secs > maxRetryAfter.Seconds() {
			return maxRetryAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		// A date in the past means "now"; clock skew makes this common.
		return 0, true
	case d > maxRetryAfter:
		return maxRetryAfter, true
	}
	return d, true
}
