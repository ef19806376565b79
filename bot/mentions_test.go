package bot

import (
	"testing"
	"time"
)

func TestWindowLimiter(t *testing.T) {
	l := newWindowLimiter(2, time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {time.Second, true}, {2 * time.Second, false}, {61 * time.Second, true}, {62 * time.Second, true}, {63 * time.Second, false}}
	for _, s := range steps {
		if ok, _ := l.Allow("u", t0.Add(s.at)); ok != s.want {
			t.Errorf("at %s: allowed %v, want %v", s.at, ok, s.want)
		}
	}
	if ok, _ := l.Allow("other", t0); !ok {
		t.Error("limits are per user")
	}
}
