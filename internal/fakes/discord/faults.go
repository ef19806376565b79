// Scripted REST faults: 429 rate limits and dropped connections (RateLimitNext, DropNext).

package discord

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"
)

type rateLimit struct {
	route      string
	retryAfter time.Duration
}

// drop is a scripted connection drop: the next request matching route gets
// no answer at all, only a closed connection.
type drop struct {
	route string
	// handled drops after the request took effect (Discord did the work and
	// the answer was lost); otherwise before.
	handled bool
}

// RateLimitNext makes the next request matching route answer 429 once.
// route may be a template with or without method ("POST
// /channels/{channel_id}/messages", "/channels/{channel_id}/messages") or a
// concrete path below /api/v9, with or without method ("/channels/123/typing").
// discordgo waits retryAfter and retries by itself.
func (s *Server) RateLimitNext(route string, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits = append(s.rateLimits, rateLimit{route: route, retryAfter: retryAfter})
}

// DropNext makes the next request matching route (as for RateLimitNext) get
// no response: the server reads the request, does nothing with it, and
// closes the connection, as when Discord's edge resets it. The client sees
// a transport error (io.EOF in Go); net/http retries it by itself only for
// GET, HEAD, OPTIONS and TRACE on a reused connection.
func (s *Server) DropNext(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops = append(s.drops, drop{route: route})
}

// DropNextAfterHandling is DropNext where Discord did the work (a message
// is posted, a callback acknowledged) and only the answer is lost, so a
// client's retry meets the effect of its first attempt.
func (s *Server) DropNextAfterHandling(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops = append(s.drops, drop{route: route, handled: true})
}

func (s *Server) takeDropLocked(rt *route, rel string) (drop, bool) {
	candidates := []string{rt.method + " " + rt.pattern, rt.pattern, rt.method + " " + rel, rel}
	for i, d := range s.drops {
		if slices.Contains(candidates, d.route) {
			s.drops = slices.Delete(s.drops, i, i+1)
			return d, true
		}
	}
	return drop{}, false
}

// dropConnection closes the client's connection without a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hijack; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func (s *Server) takeRateLimitLocked(rt *route, rel string) (reply, bool) {
	candidates := []string{rt.method + " " + rt.pattern, rt.pattern, rt.method + " " + rel, rel}
	for i, rl := range s.rateLimits {
		if !slices.Contains(candidates, rl.route) {
			continue
		}
		s.rateLimits = slices.Delete(s.rateLimits, i, i+1)
		return rateLimited(rt, rl.retryAfter), true
	}
	return reply{}, false
}

// rateLimited answers like Discord's per-route limiter; discordgo reads the
// body's retry_after and the X-RateLimit-Reset-After header.
func rateLimited(rt *route, retryAfter time.Duration) reply {
	secs := retryAfter.Seconds()
	rep := jsonReply(http.StatusTooManyRequests, map[string]any{
		"message":     "You are being rate limited.",
		"retry_after": secs,
		"global":      false,
	})
	reset := float64(time.Now().Add(retryAfter).UnixMilli()) / 1000
	rep.header = http.Header{}
	rep.header.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	rep.header.Set("X-RateLimit-Limit", "5")
	rep.header.Set("X-RateLimit-Remaining", "0")
	rep.header.Set("X-RateLimit-Reset", strconv.FormatFloat(reset, 'f', 3, 64))
	rep.header.Set("X-RateLimit-Reset-After", secondsUp(retryAfter))
	rep.header.Set("X-RateLimit-Bucket", bucketHash(rt.method+" "+rt.pattern))
	rep.header.Set("X-RateLimit-Scope", "user")
	return rep
}

func bucketHash(s string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return strconv.FormatUint(h, 16)
}
