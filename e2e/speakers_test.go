//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/conversationhistory"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

const bobID = "222222222222222222"

// sentMessage is one chat message of a provider request, as sent.
type sentMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Name    string `json:"name"`
}

// speakersStack has Kerach on a free model and alice and bob as guests.
func speakersStack(t *testing.T) (*itest.Stack, uuid.UUID) {
	t.Helper()
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "openrouter/free")
	return s, s.DB.Personality.Query().Where(personality.Name("cold-kerach")).OnlyIDX(context.Background())
}

// say runs GenerateReply for one user's message to Kerach in channelID and
// returns the chat messages the model was given for it.
func say(t *testing.T, s *itest.Stack, requestID, userID, username, content string, mentions *workflows.MentionNames) []sentMessage {
	t.Helper()
	return sayInput(t, s, workflows.GenerateReplyInput{
		RequestID: requestID, DiscordUserID: userID, Username: username, Personality: "kerach",
		ChannelID: channelID, MessageID: requestID, Content: content, Mentions: mentions,
	})
}

// sayInput runs GenerateReply for in and returns the chat messages the
// model was given for it.
func sayInput(t *testing.T, s *itest.Stack, in workflows.GenerateReplyInput) []sentMessage {
	t.Helper()
	before := len(s.OpenRouter.Calls())
	mustReply(t, s, in)
	calls := s.OpenRouter.Calls()
	if len(calls) != before+1 {
		t.Fatalf("%d provider calls for one reply", len(calls)-before)
	}
	var body struct{ Messages []sentMessage }
	if err := json.Unmarshal(calls[len(calls)-1].Body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Messages
}

// conversationOf is the messages after the system prompt, as "role|content",
// the stand-in's replies as "assistant|echo: what it echoed" whatever model
// the free router chose.
func conversationOf(msgs []sentMessage) []string {
	var out []string
	for _, m := range msgs[1:] {
		c := m.Content
		if rest, ok := strings.CutPrefix(c, "Echo from "); ok && m.Role == "assistant" {
			_, said, _ := strings.Cut(rest, ": ")
			c = "echo: " + said
		}
		out = append(out, m.Role+"|"+c)
	}
	return out
}

func assertConversation(t *testing.T, got []sentMessage, want []string) {
	t.Helper()
	if g := conversationOf(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("the model was given\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// Two people talk to Kerach in one channel: the model sees who said each
// earlier turn and who speaks now, by the names they showed then.
func TestReplyNamesWhoSaidWhat(t *testing.T) {
	s, _ := speakersStack(t)
	say(t, s, "810000000000000001", aliceID, "alice", "I like cats", nil)
	say(t, s, "810000000000000002", bobID, "Bob the Builder", "I prefer dogs", nil)
	msgs := say(t, s, "810000000000000003", aliceID, "Alice (away)", "what does Bob prefer?", nil)
	echo := func(said string) string { return "assistant|echo: " + said }
	assertConversation(t, msgs, []string{
		"user|alice: I like cats", echo("alice: I like cats"),
		"user|Bob the Builder: I prefer dogs", echo("Bob the Builder: I prefer dogs"),
		"user|Alice (away): what does Bob prefer?",
	})
	if msgs[0].Role != "system" {
		t.Fatalf("first message %+v, want the system prompt", msgs[0])
	}
	// The name each turn was said under is kept with it.
	row := s.DB.ConversationHistory.Query().Where(conversationhistory.DiscordMessageID("810000000000000002")).OnlyX(context.Background())
	if row.AuthorName == nil || *row.AuthorName != "Bob the Builder" {
		t.Errorf("author_name %v, want Bob the Builder", row.AuthorName)
	}
}

// seedTurns writes n user turns of alice's in the channel, a minute apart
// and an hour ago, "turn 1 …" oldest; pad lengthens each to about size
// characters.
func seedTurns(t *testing.T, s *itest.Stack, pid uuid.UUID, n, size int) {
	t.Helper()
	ctx := context.Background()
	u := s.DB.User.Create().SetDiscordID(aliceID).SetUsername("alice").SaveX(ctx)
	start := time.Now().Add(-time.Hour)
	var rows []*ent.ConversationHistoryCreate
	for i := 1; i <= n; i++ {
		text := fmt.Sprintf("turn %d ", i)
		text += strings.Repeat("x", max(0, size-len(text)))
		rows = append(rows, s.DB.ConversationHistory.Create().SetChannelID(channelID).SetPersonalityID(pid).
			SetUserID(u.ID).SetRole("user").SetContent(text).SetAuthorName("alice").
			SetCreatedAt(start.Add(time.Duration(i)*time.Minute)))
	}
	s.DB.ConversationHistory.CreateBulk(rows...).ExecX(ctx)
}

// firstWords are the "turn N" of each history message, in order.
func firstWords(msgs []sentMessage) []string {
	var out []string
	for _, m := range msgs[1 : len(msgs)-1] {
		f := strings.Fields(strings.TrimPrefix(m.Content, "alice: "))
		out = append(out, strings.Join(f[:min(2, len(f))], " "))
	}
	return out
}

// The history window: a history longer than the personality's
// max_conversation_history is cut to its newest turns; within it, the turns
// that do not fit the token budget are dropped oldest first. The current
// message is always sent.
func TestReplyHistoryWindow(t *testing.T) {
	cases := []struct {
		name       string
		maxHistory int // 0: the default
		turns      int
		size       int // characters per turn
		want       string
	}{
		{"max_conversation_history", 3, 8, 0, "turn 6, turn 7, turn 8"},
		// 3,000+ estimated tokens each: three fit DefaultPromptTokens
		// beside the system prompt.
		{"token budget", 0, 10, 9000, "turn 8, turn 9, turn 10"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, pid := speakersStack(t)
			if tc.maxHistory > 0 {
				s.DB.LLMConfig.Update().SetMaxConversationHistory(tc.maxHistory).ExecX(context.Background())
			}
			seedTurns(t, s, pid, tc.turns, tc.size)
			msgs := say(t, s, fmt.Sprintf("81000000000000002%d", i), aliceID, "alice", "and now?", nil)
			if got := strings.Join(firstWords(msgs), ", "); got != tc.want {
				t.Errorf("history given: %s; want %s", got, tc.want)
			}
			if last := msgs[len(msgs)-1]; last.Content != "alice: and now?" {
				t.Errorf("current message %+v", last)
			}
		})
	}
}

// Mentions reach the model as names, up to the personality's own limits
// per message, in the current message and in the history.
func TestReplyMentionsBecomeNames(t *testing.T) {
	s, _ := speakersStack(t)
	s.DB.LLMConfig.Update().SetMaxMentionsPerMessage(1).SetMaxChannelsPerMessage(1).SetMaxRolesPerMessage(1).
		ExecX(context.Background())
	say(t, s, "810000000000000031", bobID, "bob", "hi <@"+aliceID+">", nil)
	names := &workflows.MentionNames{
		Users:    map[string]string{bobID: "Bobby", "333333333333333333": "carol"},
		Channels: map[string]string{"700000000000000001": "general", "700000000000000002": "random"},
		Roles:    map[string]string{"600000000000000001": "mods", "600000000000000002": "admins"},
	}
	msgs := say(t, s, "810000000000000032", aliceID, "alice",
		"<@!"+bobID+"> and <@333333333333333333>: see <#700000000000000001> or <#700000000000000002>, <@&600000000000000001> <@&600000000000000002>", names)
	want := "alice: @Bobby and <@333333333333333333>: see #general or <#700000000000000002>, @mods <@&600000000000000002>"
	if last := msgs[len(msgs)-1].Content; last != want {
		t.Errorf("current message %q\nwant %q", last, want)
	}
	// alice is named in bob's earlier turn by the name she speaks with now.
	if first := msgs[1].Content; first != "bob: hi @alice" {
		t.Errorf("earlier turn %q, want bob: hi @alice", first)
	}
}
