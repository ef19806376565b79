package activities

// The pace of streamed replies that share a webhook: their growing edits
// together leave room in its rate limit for posts and final edits.

import (
	"sync"
	"time"
)

// A webhook's rate limit as Discord reports it (X-RateLimit-Limit 5,
// X-RateLimit-Reset-After 2 on Execute Webhook and Edit/Delete Webhook
// Message: https://discord.com/developers/docs/topics/rate-limits), and the
// requests of each window kept for the posts and final edits of the
// replies streaming through it.
const (
	webhookLimit   = 5
	webhookWindow  = 2 * time.Second
	webhookReserve = 2
)

// webhookPace is one webhook's requests from this worker in the last
// webhookWindow. Streamed replies in one channel share its webhook and so
// its 5 requests per 2 s: with each writer editing once per EditInterval,
// five writers would want twice that, their edits would queue in
// discordgo's bucket, and each reply's final edit would wait behind the
// others' growing ones. So a growing edit goes only while the webhook has
// more than webhookReserve requests left in the window (else it is
// skipped, its text shown by a later edit), and posts and final edits
// always go, in discordgo's bucket, which keeps the hard limit. It is safe
// for concurrent use.
type webhookPace struct {
	mu   sync.Mutex
	sent []time.Time
}

// pace is the webhook's pace in this worker.
func (a *Activities) pace(webhookID string) *webhookPace {
	p, _ := a.paces.LoadOrStore(webhookID, &webhookPace{})
	return p.(*webhookPace)
}

// take counts a request through the webhook at now and reports true; a
// growing edit (growing) only while more than webhookReserve requests of
// the window are left, else it is not counted and take reports false.
func (p *webhookPace) take(now time.Time, growing bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := 0
	for i < len(p.sent) && now.Sub(p.sent[i]) >= webhookWindow {
		i++
	}
	p.sent = p.sent[i:]
	if growing && len(p.sent) >= webhookLimit-webhookReserve {
		return false
	}
	p.sent = append(p.sent, now)
	return true
}
