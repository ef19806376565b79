//go:build integration

package activities_test

// A retry resumes from the delivery rows, not from the last heartbeat the
// server has: the SDK sends heartbeats at most once per 0.8 × the heartbeat
// timeout, so a killed attempt's last posts may be missing from it.

import (
	"context"
	"slices"
	"testing"

	"github.com/tzurot/tzurot/activities"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// resumed is the writer a retry of the generate activity makes: afresh,
// then Resume.
func (f *streamFixture) resumed(t *testing.T, key string, from activities.Progress) *activities.StreamWriter {
	t.Helper()
	w := activities.NewStreamWriter(f.acts, target(key), from)
	if err := w.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

// A shorter retry after a killed attempt whose later posts never reached a
// heartbeat leaves one message: every part the deliveries recorded is the
// retry's to edit or delete, whatever the heartbeat said.
func TestStreamShorterRetryFromAStaleHeartbeatLeavesNoStrayText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		known func(activities.Progress) activities.Progress
	}{
		{"heartbeat knew the first message", func(p activities.Progress) activities.Progress {
			return activities.Progress{Messages: p.Messages[:1]}
		}},
		{"no heartbeat reached the server", func(activities.Progress) activities.Progress { return activities.Progress{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStreamFixture(t, fakediscord.Options{})
			ctx := context.Background()
			beat := f.killedAttempt(t, "s1/reply", reply("first", 700)[:4200], 3)
			text := "A short answer this time. Nothing more."
			retry := f.resumed(t, "s1/reply", tc.known(beat))
			if err := retry.Update(ctx, text[:10]); err != nil {
				t.Fatal(err)
			}
			ids, err := retry.Finish(ctx, text)
			if err != nil {
				t.Fatal(err)
			}
			got := f.live(channelID)
			if !slices.Equal(contents(got), []string{text}) {
				t.Errorf("the channel shows %q after the retry, want only %q", contents(got), text)
			}
			if len(ids) != 1 || ids[0] != beat.Messages[0].ID {
				t.Errorf("the reply ended in %v, want the first attempt's first message %s", ids, beat.Messages[0].ID)
			}
		})
	}
}

// A part someone deleted between the attempts is posted again, and the
// parts after it with it, so the reply reads in order.
func TestStreamRetryAfterAPartWasDeletedKeepsTheOrder(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	first := reply("first", 700)[:4200]
	beat := f.killedAttempt(t, "s2/reply", first, 3)
	if err := f.acts.Discord.ChannelMessageDelete(channelID, beat.Messages[1].ID); err != nil {
		t.Fatal(err)
	}
	text := reply("second", 700)
	retry := f.resumed(t, "s2/reply", activities.Progress{})
	ids, err := retry.Finish(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	got := f.live(channelID)
	if want := f.wholeParts(t, text); !slices.Equal(contents(got), want) {
		t.Errorf("the channel shows %q, want the reply's parts in order %q", contents(got), want)
	}
	if ids[0] != beat.Messages[0].ID {
		t.Errorf("the first part moved to %s, want it kept in %s", ids[0], beat.Messages[0].ID)
	}
}
