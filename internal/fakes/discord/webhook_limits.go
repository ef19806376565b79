// Discord's per-webhook rate limit on executing a webhook and editing or
// deleting its messages, enforced with 429s (Options.WebhookLimit).

package discord

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The webhook bucket's defaults: 5 requests per 2 s per webhook, what
// Discord's X-RateLimit-Limit and X-RateLimit-Reset-After headers report
// for Execute Webhook and Edit/Delete Webhook Message (the webhook id and
// token are the route's top-level resource:
// https://discord.com/developers/docs/topics/rate-limits). Discord warns
// the figures may change; clients must read the headers, as discordgo does.
const (
	defaultWebhookLimit  = 5
	defaultWebhookWindow = 2 * time.Second
)

// webhookBucket is one webhook's window: remaining requests until reset.
type webhookBucket struct {
	remaining int
	reset     time.Time
}

// webhookBucketKey names the bucket a request counts against: the webhook
// id and token of POST /webhooks/{id}/{token} and of PATCH and DELETE of
// its messages; "" for any other request (reads are not limited here).
func webhookBucketKey(rt *route, params map[string]string) string {
	if rt.method == http.MethodGet || !strings.HasPrefix(rt.pattern, "/webhooks/{webhook_id}/{webhook_token}") {
		return ""
	}
	return params["webhook_id"] + "/" + params["webhook_token"]
}

// takeWebhookSlotLocked counts the request against its webhook's bucket:
// the headers Discord sends with every answer of the route, and a 429
// (Discord's body, Retry-After, X-RateLimit-Scope user) when the bucket is
// empty. A 429 is remembered with when its client may retry, so a request
// that comes back sooner is counted in EarlyRetries.
func (s *Server) takeWebhookSlotLocked(rt *route, key string, rec *Request) (http.Header, *reply) {
	limit, window := s.opts.WebhookLimit, s.opts.WebhookWindow
	if limit < 0 {
		return nil, nil
	}
	if limit == 0 {
		limit = defaultWebhookLimit
	}
	if window <= 0 {
		window = defaultWebhookWindow
	}
	now := time.Now()
	client := key + " " + rec.Header.Get("User-Agent")
	if until, ok := s.retryAt[client]; ok && now.Before(until.Add(-retryTolerance)) {
		s.earlyRetries++
	}
	b := s.webhookBuckets[key]
	if b == nil || !now.Before(b.reset) {
		b = &webhookBucket{remaining: limit, reset: now.Add(window)}
		s.webhookBuckets[key] = b
	}
	after := b.reset.Sub(now)
	if b.remaining == 0 {
		rep := rateLimited(rt, after)
		rep.header.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		rec.RetryAfter = after
		s.retryAt[client] = b.reset
		return nil, &rep
	}
	b.remaining--
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(b.reset.UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", secondsUp(after))
	h.Set("X-RateLimit-Bucket", bucketHash(rt.pattern))
	return h, nil
}

// secondsUp formats d in seconds with millisecond precision, rounded up so
// a client sleeping that long never comes back early.
func secondsUp(d time.Duration) string {
	return strconv.FormatFloat(math.Ceil(float64(d)/float64(time.Millisecond))/1000, 'f', 3, 64)
}

// EarlyRetries counts requests that reached a webhook's bucket before the
// retry_after of a 429 answered to the same client had passed: a client that
// does not back off. Clients are told apart by User-Agent (tests give each
// session of their own one), since another client sharing the webhook was
// never told. Tests of rate-limit handling assert it stays 0.
func (s *Server) EarlyRetries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.earlyRetries
}

// retryTolerance forgives a retry this much early: retry_after travels in
// seconds with millisecond precision, which a client may round down.
const retryTolerance = 2 * time.Millisecond
