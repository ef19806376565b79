//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/delivery"
	"github.com/tzurot/tzurot/internal/config"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/internal/webhookname"
	"github.com/tzurot/tzurot/workflows"
)

// replyIn runs one GenerateReply for Kerach in channel and returns its result.
func replyAsking(t *testing.T, s *itest.Stack, requestID, channel, content string) workflows.GenerateReplyResult {
	t.Helper()
	return result(t, startReplyAsking(t, s, requestID, channel, content))
}

// startReplyAsking starts GenerateReply for alice's message to Kerach.
func startReplyAsking(t *testing.T, s *itest.Stack, requestID, channel, content string) client.WorkflowRun {
	t.Helper()
	run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID(requestID), TaskQueue: s.TaskQueue,
	}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
		RequestID: requestID, DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: channel, MessageID: requestID, Content: content,
	})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func deliveryStack(t *testing.T) *itest.Stack {
	t.Helper()
	s := userKeyStack(t, itest.Options{GuestMode: config.GuestOff}, "openrouter/free")
	return s
}

// oneReply asserts the channel holds exactly the reply res names, and
// returns it.
func oneReply(t *testing.T, s *itest.Stack, channel string, res workflows.GenerateReplyResult) fakediscord.Message {
	t.Helper()
	msgs := s.Discord.Messages(channel)
	if res.Outcome != workflows.ReplyReplied || len(msgs) != 1 || msgs[0].ID != res.DiscordMessageID {
		t.Fatalf("result %+v, channel %+v: want one reply", res, msgs)
	}
	return msgs[0]
}

// Discord's username rules (no "discord" or "clyde" in any case, 1–80
// characters after trimming): every display name reaches the channel as
// the webhook's username, made acceptable and cut on a character boundary.
func TestEveryDisplayNameReachesTheChannel(t *testing.T) {
	s := deliveryStack(t)
	ctx := context.Background()
	p := s.DB.Personality.Query().OnlyX(ctx)
	for i, name := range []string{
		"Discord Helper",
		"the CLYDE",
		"dIsCoRd & clyde",
		strings.Repeat("a", 79) + "é",
		strings.Repeat("é", 81),
		strings.Repeat("a", 79) + "👩‍💻",
		"   \u200b  ",
		"  two   spaces  ",
		"everyone",
	} {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			s.DB.Personality.UpdateOne(p).SetDisplayName(name).ExecX(ctx)
			channel := fmt.Sprintf("90000000000000%04d", 1000+i)
			res := replyAsking(t, s, fmt.Sprintf("80000000000000%04d", 1000+i), channel, "hello")
			m := oneReply(t, s, channel, res)
			want := webhookname.Sanitize(name, p.Name)
			if m.WebhookID == "" || m.Author.Username != want {
				t.Errorf("posted by %q (webhook %q), want the webhook as %q", m.Author.Username, m.WebhookID, want)
			}
			if strings.ContainsRune(m.Author.Username, '\uFFFD') {
				t.Errorf("username %q holds U+FFFD", m.Author.Username)
			}
		})
	}
	if n := s.DB.ConversationHistory.Query().CountX(ctx); n != 2*9 {
		t.Errorf("%d history rows, want every exchange saved", n)
	}
}

// Discord refuses names for reasons it does not list; the paid reply then
// goes out through the bot, named in bold, and the exchange is saved.
func TestRefusedWebhookPostGoesOutAsTheBot(t *testing.T) {
	s := deliveryStack(t)
	s.Discord.RefuseWebhookUsernames("kerach")
	res := replyAsking(t, s, "800000000000002001", channelID, "hello")
	m := oneReply(t, s, channelID, res)
	if m.WebhookID != "" || !strings.HasPrefix(m.Content, "**Kerach:** Echo from") {
		t.Errorf("message %+v, want a bot message starting **Kerach:**", m)
	}
	if n := s.DB.ConversationHistory.Query().CountX(context.Background()); n != 2 {
		t.Errorf("%d history rows, want 2", n)
	}
}

// A webhook deleted by a server admin (404, 10015) is forgotten and made
// again within the same attempt.
func TestDeletedWebhookIsMadeAgain(t *testing.T) {
	s := deliveryStack(t)
	first := replyAsking(t, s, "800000000000003001", channelID, "one")
	oneReply(t, s, channelID, first)
	s.Discord.DeleteWebhooks(channelID)
	second := replyAsking(t, s, "800000000000003002", channelID, "two")
	msgs := s.Discord.Messages(channelID)
	if second.Outcome != workflows.ReplyReplied || len(msgs) != 2 || msgs[1].ID != second.DiscordMessageID || msgs[1].WebhookID == "" {
		t.Fatalf("result %+v, messages %+v: want the second reply through a new webhook", second, msgs)
	}
	if msgs[1].WebhookID == msgs[0].WebhookID || s.Discord.WebhooksCreated(channelID) != 2 {
		t.Errorf("webhooks created %d, want the deleted one replaced", s.Discord.WebhooksCreated(channelID))
	}
	if n := len(s.Discord.Requests()); n > 12 {
		t.Errorf("%d Discord requests for two replies: retried more than once?", n)
	}
}

// A channel without room for our webhook (Discord's 15, 30007) reuses one
// the application made, else posts as the bot; without Manage Webhooks
// (403, 50013) it posts as the bot.
func TestChannelsWithoutOurWebhook(t *testing.T) {
	s := deliveryStack(t)
	app := s.Discord.Options().ApplicationID

	full := "900000000000004001"
	s.Discord.AddWebhooks(full, "777777777777777777", 10)
	s.Discord.AddWebhooks(full, "", 5)
	m := oneReply(t, s, full, replyAsking(t, s, "800000000000004001", full, "full"))
	if m.WebhookID != "" || !strings.HasPrefix(m.Content, "**Kerach:** ") {
		t.Errorf("full channel: message %+v, want a bot message starting **Kerach:**", m)
	}

	ours := "900000000000004002"
	s.Discord.AddWebhooks(ours, "777777777777777777", 14)
	s.Discord.AddWebhooks(ours, app, 1)
	m = oneReply(t, s, ours, replyAsking(t, s, "800000000000004002", ours, "ours"))
	if m.WebhookID == "" || m.Author.Username != "Kerach" || s.Discord.WebhooksCreated(ours) != 0 {
		t.Errorf("full channel with an application webhook: %+v, %d created; want the app's webhook reused", m, s.Discord.WebhooksCreated(ours))
	}

	denied := "900000000000004003"
	s.Discord.DenyWebhooks(denied)
	m = oneReply(t, s, denied, replyAsking(t, s, "800000000000004003", denied, "denied"))
	if m.WebhookID != "" || !strings.HasPrefix(m.Content, "**Kerach:** ") {
		t.Errorf("no Manage Webhooks: message %+v, want a bot message starting **Kerach:**", m)
	}
}

// Three replies with the same text; the worker is killed after Discord
// took the third and before it was recorded. The retry adopts the third's
// own message, never one an earlier delivery recorded.
func TestRetryAdoptsOnlyItsOwnMessage(t *testing.T) {
	bin := buildTzurot(t)
	s := userKeyStack(t, itest.Options{NoWorker: true, GuestMode: config.GuestOff}, "openrouter/free")
	w := startWorker(t, s, bin)
	ids := []string{"800000000000005001", "800000000000005002", "800000000000005003"}
	for _, id := range ids[:2] {
		oneOf := replyAsking(t, s, id, channelID, "same words")
		if oneOf.Outcome != workflows.ReplyReplied {
			t.Fatalf("result %+v", oneOf)
		}
	}
	var kill sync.Once
	s.Discord.SetOnMessage(func(m fakediscord.Message) {
		if m.WebhookID != "" {
			kill.Do(func() { _ = w.Process.Kill() })
		}
	})
	ctx := context.Background()
	run := startReplyAsking(t, s, ids[2], channelID, "same words")
	testwait.Until(t, "the third post to reach the channel", func() bool { return len(s.Discord.Messages(channelID)) >= 3 })
	_, _ = w.Process.Wait()
	s.Discord.SetOnMessage(nil)
	startWorker(t, s, bin)
	res := runResult[workflows.GenerateReplyResult](t, run, 90*time.Second)
	msgs := s.Discord.Messages(channelID)
	if len(msgs) != 3 {
		t.Fatalf("%d channel messages, want 3: one per request", len(msgs))
	}
	if res.Outcome != workflows.ReplyReplied || res.DiscordMessageID != msgs[2].ID {
		t.Errorf("third request %+v, want its own message %s", res, msgs[2].ID)
	}
	for i, id := range ids {
		// Replies stream (posted as they are written) under their stream key.
		d := s.DB.Delivery.Query().Where(delivery.Key(workflows.GenerateReplyID(id) + "/stream/0")).OnlyX(ctx)
		if d.DiscordMessageID != msgs[i].ID {
			t.Errorf("request %d recorded message %s, want %s", i+1, d.DiscordMessageID, msgs[i].ID)
		}
	}
}
