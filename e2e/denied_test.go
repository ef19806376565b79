//go:build e2e

package e2e

import (
	"context"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/denial"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/workflows"
)

// TestDeniedReplyStartedByHandPostsNothing: the deny list lives in the
// database, and the worker reads it too, so a GenerateReply started by hand
// (as `temporal workflow start` would) for a denied user, or from a denied
// guild, ends "denied" without a provider call or a post; allowed again, the
// same user is answered. A superuser on the user list is answered (the list
// never stops them), but not from a denied guild.
func TestDeniedReplyStartedByHandPostsNothing(t *testing.T) {
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "openrouter/free")
	ctx := context.Background()
	st := store.New(s.DB)
	const guild, superID = "1300000000000000077", "111111111111111177"
	s.DB.User.Create().SetDiscordID(superID).SetIsSuperuser(true).ExecX(ctx)

	run := func(requestID, user, guildID string) workflows.GenerateReplyResult {
		t.Helper()
		r, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GenerateReplyID(requestID), TaskQueue: s.TaskQueue},
			workflows.GenerateReplyName, workflows.GenerateReplyInput{RequestID: requestID, DiscordUserID: user, Username: "someone",
				Personality: "kerach", ChannelID: channelID, GuildID: guildID, MessageID: requestID, Content: "hello there"})
		if err != nil {
			t.Fatal(err)
		}
		return result(t, r)
	}
	nothingPosted := func(what string, res workflows.GenerateReplyResult) {
		t.Helper()
		if res.Outcome != workflows.ReplyDenied || res.DiscordMessageID != "" {
			t.Errorf("%s: %+v, want outcome %q and no message", what, res, workflows.ReplyDenied)
		}
		if msgs := s.Discord.Messages(channelID); len(msgs) != 0 {
			t.Errorf("%s: the channel holds %d messages, want none: %+v", what, len(msgs), msgs)
		}
		if n := len(s.OpenRouter.Calls()); n != 0 {
			t.Errorf("%s: %d provider calls, want none", what, n)
		}
	}

	for _, d := range []struct {
		kind denial.Kind
		id   string
	}{{store.DenyUser, aliceID}, {store.DenyUser, superID}, {store.DenyGuild, guild}} {
		if _, err := st.Deny(ctx, d.kind, d.id, superID, ""); err != nil {
			t.Fatal(err)
		}
	}
	nothingPosted("a denied user", run("800000000000000901", aliceID, ""))
	nothingPosted("a denied guild", run("800000000000000902", "111111111111111178", guild))
	nothingPosted("a superuser in a denied guild", run("800000000000000903", superID, guild))

	if res := run("800000000000000904", superID, ""); res.Outcome != workflows.ReplyReplied {
		t.Errorf("a superuser on the user list: %+v, want replied (the list never stops them)", res)
	}
	if _, err := st.Allow(ctx, store.DenyUser, aliceID); err != nil {
		t.Fatal(err)
	}
	if res := run("800000000000000905", aliceID, ""); res.Outcome != workflows.ReplyReplied {
		t.Errorf("alice allowed again: %+v, want replied", res)
	}
}
