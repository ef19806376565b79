//go:build integration

package activities_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// Every streamed edit, as the bot (no webhook in the channel) or through
// the webhook, sends allowed_mentions parse [users], as the posts do: an
// edit without it is parsed with Discord's default allowances (@everyone
// and roles too), whatever the post sent (Edit Message).
func TestStreamEditsAllowOnlyUserMentions(t *testing.T) {
	for _, bot := range []bool{true, false} {
		t.Run(fmt.Sprintf("bot=%v", bot), func(t *testing.T) {
			f := newStreamFixture(t, fakediscord.Options{})
			if bot {
				f.discord.DenyWebhooks(channelID)
				f.discord.DenyWebhooks(wholeChannelID)
			}
			ctx := context.Background()
			text := reply("mention @everyone", 400)
			w := activities.NewStreamWriter(f.acts, target("m1/reply"), activities.Progress{})
			if err := feed(ctx, w, tokens(text), time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Finish(ctx, text); err != nil {
				t.Fatal(err)
			}
			got := f.live(channelID)
			if len(got) == 0 {
				t.Fatal("nothing posted")
			}
			if len(got[0].History) < 2 || (got[0].WebhookID == "") != bot {
				t.Fatalf("first message by webhook %q, %d versions: want one edited as it grew", got[0].WebhookID, len(got[0].History))
			}
			for _, m := range got {
				if p := fmt.Sprint(m.AllowedMentions["parse"]); m.AllowedMentions == nil || p != "[users]" {
					t.Errorf("message %s (%d versions) allowed_mentions %v, want parse [users]", m.ID, len(m.History), m.AllowedMentions)
				}
			}
		})
	}
}
