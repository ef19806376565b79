package bot

import (
	"sync"
	"time"
)

// windowLimiter allows n events per key in any rolling window.
type windowLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	events map[string][]time.Time
}

func newWindowLimiter(n int, window time.Duration) *windowLimiter {
	return &windowLimiter{n: n, window: window, events: map[string][]time.Time{}}
}

// Allow records an event for key at now and reports whether it is within the
// limit; when it is not, retry is when the oldest event leaves the window.
func (l *windowLimiter) Allow(key string, now time.Time) (ok bool, retry time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := l.events[key][:0]
	for _, t := range l.events[key] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if l.n > 0 && len(kept) >= l.n {
		l.events[key] = kept
		return false, kept[0].Add(l.window)
	}
	l.events[key] = append(kept, now)
	return true, time.Time{}
}
