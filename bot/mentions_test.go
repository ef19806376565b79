package bot

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestMentions(t *testing.T) {
	lilith, sable, kerach := uuid.New(), uuid.New(), uuid.New()
	idx := &mentionIndex{names: map[uuid.UUID]string{lilith: "lilith", sable: "lilith-sable", kerach: "kerach"}}
	idx.add("Lilith", lilith)
	idx.add("Lilith Sable", sable)
	idx.add("Kerach", kerach)
	idx.add("K", kerach)
	sortTerms(idx)
	cases := []struct {
		content string
		max     int
		want    []uuid.UUID
	}{
		{"@Lilith hi", 5, []uuid.UUID{lilith}},
		{"@lilith sable, hi", 5, []uuid.UUID{sable}},  // the longest name wins
		{"@Lilith Sablefish", 5, []uuid.UUID{lilith}}, // a name ends at a word boundary
		{"hi @kerach and @LILITH", 5, []uuid.UUID{kerach, lilith}},
		{"@kerach @kerach @k", 5, []uuid.UUID{kerach}},                    // one reply per personality
		{"@kerach @lilith @lilith sable", 2, []uuid.UUID{kerach, lilith}}, // capped
		{"email me at a@kerach.com", 5, []uuid.UUID{kerach}},
		{"no mentions", 5, nil},
		{"@kerachs", 5, nil},
	}
	for _, tc := range cases {
		got := idx.mentions(tc.content, tc.max)
		if len(got) != len(tc.want) {
			t.Errorf("%q: %d mentions, want %d", tc.content, len(got), len(tc.want))
			continue
		}
		for i := range got {
			if got[i].id != tc.want[i] {
				t.Errorf("%q: mention %d is %s, want %s", tc.content, i, idx.names[got[i].id], idx.names[tc.want[i]])
			}
		}
	}
}

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
