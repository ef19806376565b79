//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/conversationhistory"
	"github.com/tzurot/tzurot/internal/config"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// rawMentionRE is a mention as Discord writes it.
var rawMentionRE = regexp.MustCompile(`<(@!?|@&|#)\d+>`)

// mustReply runs GenerateReply for in and fails the test unless it replied.
func mustReply(t *testing.T, s *itest.Stack, in workflows.GenerateReplyInput) {
	t.Helper()
	run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID(in.RequestID), TaskQueue: s.TaskQueue,
	}, workflows.GenerateReplyName, in)
	if err != nil {
		t.Fatal(err)
	}
	if res := result(t, run); res.Outcome != workflows.ReplyReplied {
		t.Fatalf("%s: outcome %s", in.RequestID, res.Outcome)
	}
}

// chatOf runs GenerateReply for in to "replied" and returns the chat
// messages of the model's last chat completion (embeddings calls aside).
func chatOf(t *testing.T, s *itest.Stack, in workflows.GenerateReplyInput) []sentMessage {
	t.Helper()
	mustReply(t, s, in)
	calls := s.OpenRouter.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if strings.HasSuffix(calls[i].Path, "/chat/completions") {
			var body struct{ Messages []sentMessage }
			if err := json.Unmarshal(calls[i].Body, &body); err != nil {
				t.Fatal(err)
			}
			return body.Messages
		}
	}
	t.Fatal("no chat completion")
	return nil
}

// bobSays is bob's message to Kerach in channelID, without mentions.
func bobSays(requestID, content string) workflows.GenerateReplyInput {
	return workflows.GenerateReplyInput{RequestID: requestID, DiscordUserID: bobID, Username: "bob", Personality: "kerach",
		ChannelID: channelID, MessageID: requestID, Content: content}
}

// Mentions in earlier turns reach the model as names, even when the user
// mentioned never speaks in the window and the message answered now
// mentions no one: the message's mentions and the personality's reply
// (which addresses the speaker as <@id>) are kept as names, within the
// personality's mention limits per message, in the conversation history
// and in the long-term memory alike.
func TestEarlierTurnsKeepTheirMentionsAsNames(t *testing.T) {
	ctx := context.Background()
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey, LongTermMemory: true})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "openrouter/free")
	s.DB.LLMConfig.Update().SetMaxMentionsPerMessage(2).SetMaxChannelsPerMessage(1).SetMaxRolesPerMessage(1).ExecX(ctx)
	const carol, dave, erin = "333333333333333333", "444444444444444444", "555555555555555555"
	names := &workflows.MentionNames{
		Users:    map[string]string{carol: "carol", dave: "Dave", erin: "erin"},
		Channels: map[string]string{"700000000000000001": "general", "700000000000000002": "random"},
		Roles:    map[string]string{"600000000000000001": "mods"},
	}
	// The recall's embedding comes first, then the reply.
	s.OpenRouter.Script(operatorKey, fakeopenrouter.OK(), fakeopenrouter.Reply("Hi <@"+aliceID+">, I will tell <@"+carol+">.", ""))
	chatOf(t, s, workflows.GenerateReplyInput{
		RequestID: "870000000000000001", DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: channelID, MessageID: "870000000000000001", Mentions: names,
		Content: "ask <@" + carol + "> and <@!" + dave + "> and <@" + erin + "> in <#700000000000000001> or <#700000000000000002>, <@&600000000000000001>",
	})
	wantUser := "ask @carol and @Dave and <@" + erin + "> in #general or <#700000000000000002>, @mods"
	wantReply := "Hi @alice, I will tell @carol."

	// bob mentions no one, and carol never spoke: her name comes from the turn kept.
	msgs := chatOf(t, s, bobSays("870000000000000002", "what did alice ask?"))
	assertConversation(t, msgs[:3], []string{"user|alice: " + wantUser, "assistant|" + wantReply})

	// A window of three turns leaves alice's out: the reply that named her
	// still reads her name, not her id.
	s.DB.LLMConfig.Update().SetMaxConversationHistory(3).ExecX(ctx)
	msgs = chatOf(t, s, bobSays("870000000000000003", "and then?"))
	if got := msgs[1]; got.Role != "assistant" || got.Content != wantReply {
		t.Errorf("the oldest turn in the window is %s %q, want the reply %q", got.Role, got.Content, wantReply)
	}

	row := s.DB.ConversationHistory.Query().Where(conversationhistory.DiscordMessageID("870000000000000001")).OnlyX(ctx)
	if row.Content != wantUser {
		t.Errorf("turn kept as %q, want %q", row.Content, wantUser)
	}
	var memory string
	testwait.Until(t, "alice's exchange to be remembered", func() bool {
		ms := s.DB.Memory.Query().AllX(ctx)
		for _, m := range ms {
			if strings.HasPrefix(m.Content, "alice: ") {
				memory = m.Content
				return true
			}
		}
		return false
	})
	if !strings.Contains(memory, wantUser) || !strings.Contains(memory, wantReply) {
		t.Errorf("memory %q, want its mentions as the history keeps them", memory)
	}
	for _, m := range msgs {
		if raw := rawMentionRE.FindString(m.Content); raw != "" && !strings.Contains(wantUser, raw) {
			t.Errorf("a mention within the limits reached the model as an id, %s, in %q", raw, m.Content)
		}
	}
}

// A referenced message's mentions reach the model as names too: the users
// it mentions, as Discord serves the message (its mentions array), by
// their display names, though the message answered mentions no one.
func TestReferencedMessagesNameTheirMentions(t *testing.T) {
	s, _ := speakersStack(t)
	const carol, dave = "920000000000000011", "920000000000000012"
	read := int64(discordgo.PermissionViewChannel | discordgo.PermissionReadMessageHistory | discordgo.PermissionSendMessages)
	s.Discord.SetGuildAccess(fakediscord.GuildAccess{
		ID: refGuild, OwnerID: "910000000000000009",
		Roles:    []fakediscord.Role{{ID: refGuild, Name: "@everyone", Permissions: read}},
		Members:  map[string][]string{aliceID: nil, carol: nil, dave: nil, s.Discord.BotUserID(): nil},
		Users:    map[string]fakediscord.User{dave: {Username: "dave", GlobalName: "Davey"}},
		Channels: map[string][]fakediscord.Overwrite{openChan: nil},
	})
	asked := post(t, s, fakediscord.UserMessage{ChannelID: openChan, Author: fakediscord.User{ID: carol, Username: "carol"}, Content: "ask <@" + dave + "> about it"})
	got := lastUser(t, sayInput(t, s, workflows.GenerateReplyInput{
		RequestID: "920000000000000101", DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: openChan, GuildID: refGuild, MessageID: "920000000000000101", Content: "what of it?",
		References: &workflows.References{ReplyTo: &workflows.MessageRef{ChannelID: openChan, MessageID: asked.ID}},
	}))
	if !strings.Contains(got, "[Replying to carol, ") || !strings.Contains(got, ": ask @Davey about it]") {
		t.Errorf("the model was given %q, want carol's message quoted with dave named", got)
	}
	if raw := rawMentionRE.FindString(got); raw != "" {
		t.Errorf("the mention %s reached the model as an id: %q", raw, got)
	}
}

// A turn kept before turns were kept with names still reaches the model
// with its users' names where the bot knows them: a user mentioned who is
// not speaking in the window is named by the name their users row keeps;
// one the bot never met stays as Discord wrote it.
func TestEarlierRawMentionsAreNamedFromKnownUsers(t *testing.T) {
	ctx := context.Background()
	s, pid := speakersStack(t)
	const dave, erin = "930000000000000012", "930000000000000013"
	s.DB.User.Create().SetDiscordID(dave).SetUsername("Dave R").ExecX(ctx)
	alice := s.DB.User.Create().SetDiscordID(aliceID).SetUsername("alice").SaveX(ctx)
	s.DB.ConversationHistory.Create().SetChannelID(channelID).SetPersonalityID(pid).SetUserID(alice.ID).
		SetRole("user").SetContent("ask <@" + dave + "> and <@!" + erin + ">").SetAuthorName("alice").
		SetCreatedAt(time.Now().Add(-time.Hour)).ExecX(ctx)
	msgs := say(t, s, "930000000000000101", bobID, "bob", "what did alice ask?", nil)
	assertConversation(t, msgs[:2], []string{"user|alice: ask @Dave R and <@!" + erin + ">"})
}
