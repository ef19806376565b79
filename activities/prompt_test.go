package activities_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
)

// The system prompt gives the user's local time with the zone's name and its
// offset, so a fixed zone such as Etc/GMT+8 (UTC-8, POSIX's inverted sign)
// cannot be read the wrong way round.
func TestPromptTimeNamesTheOffset(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cases := []struct{ zone, want string }{
		{"Etc/GMT+8", "is Monday 23 November 2026, 04:00 (Etc/GMT+8, UTC-08:00)."},
		{"Asia/Kolkata", "is Monday 23 November 2026, 17:30 (Asia/Kolkata, UTC+05:30)."},
		{"", "is Monday 23 November 2026, 12:00 (UTC, UTC+00:00)."},
	}
	for _, tc := range cases {
		sys := activities.BuildMessages(activities.PromptInput{Username: "amy", Timezone: tc.zone, Now: now, Content: "hi"})[0].Content
		if !strings.Contains(sys, tc.want) {
			t.Errorf("%q: system prompt %q lacks %q", tc.zone, sys, tc.want)
		}
	}
}
