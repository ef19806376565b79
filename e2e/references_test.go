//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent/llmconfig"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

const (
	refGuild   = "910000000000000001"
	openChan   = "910000000000000002"
	secretChan = "910000000000000003"
	memberRole = "910000000000000004"
)

// referencesStack is speakersStack with a guild in which alice may read
// #open but not #secret (its overwrite denies @everyone VIEW_CHANNEL and
// allows it to a role alice lacks), and the bot may read both.
func referencesStack(t *testing.T) (*itest.Stack, uuid.UUID) {
	t.Helper()
	s, pid := speakersStack(t)
	read := int64(discordgo.PermissionViewChannel | discordgo.PermissionReadMessageHistory | discordgo.PermissionSendMessages)
	s.Discord.SetGuildAccess(fakediscord.GuildAccess{
		ID: refGuild, OwnerID: "910000000000000009",
		Roles:   []fakediscord.Role{{ID: refGuild, Name: "@everyone", Permissions: read}, {ID: memberRole, Name: "staff"}},
		Members: map[string][]string{aliceID: nil, s.Discord.BotUserID(): {memberRole}},
		Channels: map[string][]fakediscord.Overwrite{
			openChan: nil,
			secretChan: {
				{ID: refGuild, Type: 0, Deny: discordgo.PermissionViewChannel},
				{ID: memberRole, Type: 0, Allow: discordgo.PermissionViewChannel},
			},
		},
	})
	return s, pid
}

// post records a user's message in the stand-in.
func post(t *testing.T, s *itest.Stack, um fakediscord.UserMessage) fakediscord.Message {
	t.Helper()
	if um.GuildID == "" {
		um.GuildID = refGuild
	}
	m, err := s.Discord.RecordUserMessage(um)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// lastUser is the content of the last user message the model was given.
func lastUser(t *testing.T, msgs []sentMessage) string {
	t.Helper()
	if len(msgs) == 0 || msgs[len(msgs)-1].Role != "user" {
		t.Fatalf("the request ends with %+v, want the user's message", msgs)
	}
	return msgs[len(msgs)-1].Content
}

// A reply chain of three with max_referenced_messages 2: the model gets
// the two nearest messages, each with its author and time, not the third.
func TestReferencedReplyChain(t *testing.T) {
	s, pid := referencesStack(t)
	s.DB.LLMConfig.Update().Where(llmconfig.PersonalityID(pid)).SetMaxReferencedMessages(2).ExecX(context.Background())
	first := post(t, s, fakediscord.UserMessage{ChannelID: openChan, Author: fakediscord.User{ID: "910000000000000011", Username: "carol"}, Content: "the oldest words"})
	second := post(t, s, fakediscord.UserMessage{ChannelID: openChan, Author: fakediscord.User{ID: "910000000000000012", Username: "dave"}, Content: "the middle words", ReferencedMessageID: first.ID})
	third := post(t, s, fakediscord.UserMessage{ChannelID: openChan, Author: fakediscord.User{ID: "910000000000000013", Username: "erin"}, Content: "the nearest words", ReferencedMessageID: second.ID})
	got := lastUser(t, sayInput(t, s, workflows.GenerateReplyInput{
		RequestID: "910000000000000101", DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: openChan, GuildID: refGuild, MessageID: "910000000000000101", Content: "what do you make of it?",
		References: &workflows.References{ReplyTo: &workflows.MessageRef{ChannelID: openChan, MessageID: third.ID}},
	}))
	for _, want := range []string{
		"[Replying to erin, " + third.Timestamp.UTC().Format("2006-01-02 15:04 UTC") + ": the nearest words]",
		"[which replied to dave, " + second.Timestamp.UTC().Format("2006-01-02 15:04 UTC") + ": the middle words]",
		"what do you make of it?",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the model was given %q, want it to carry %q", got, want)
		}
	}
	if strings.Contains(got, "the oldest words") || strings.Contains(got, "carol") {
		t.Errorf("the model was given %q: a third referenced message past max_referenced_messages 2", got)
	}
}

// A link to a message in a channel the speaker can read is quoted; one to
// a channel they cannot read (though the bot can) is not followed, and
// nothing of it reaches the model.
func TestReferencedLinksOnlyWhereTheSpeakerCanRead(t *testing.T) {
	s, _ := referencesStack(t)
	open := post(t, s, fakediscord.UserMessage{ChannelID: openChan, Author: fakediscord.User{ID: "910000000000000011", Username: "carol"}, Content: "public plans"})
	secret := post(t, s, fakediscord.UserMessage{ChannelID: secretChan, Author: fakediscord.User{ID: "910000000000000012", Username: "dave"}, Content: "classified plans"})
	text := "compare https://discord.com/channels/" + refGuild + "/" + openChan + "/" + open.ID +
		" with https://ptb.discord.com/channels/" + refGuild + "/" + secretChan + "/" + secret.ID
	msgs := sayInput(t, s, workflows.GenerateReplyInput{
		RequestID: "910000000000000102", DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: openChan, GuildID: refGuild, MessageID: "910000000000000102", Content: text,
		References: &workflows.References{},
	})
	got := lastUser(t, msgs)
	if want := "[Linked message by carol, " + open.Timestamp.UTC().Format("2006-01-02 15:04 UTC") + ": public plans]"; !strings.Contains(got, want) {
		t.Errorf("the model was given %q, want the readable link quoted as %q", got, want)
	}
	for _, m := range msgs {
		if strings.Contains(m.Content, "classified") || strings.Contains(m.Content, "dave") {
			t.Errorf("the model was given %q from a channel alice cannot read", m.Content)
		}
	}
}

// A forward is quoted with its original's text, time and author.
func TestReferencedForward(t *testing.T) {
	s, _ := referencesStack(t)
	orig := post(t, s, fakediscord.UserMessage{ChannelID: openChan, Author: fakediscord.User{ID: "910000000000000011", Username: "carol"}, Content: "words worth passing on"})
	fwd := post(t, s, fakediscord.UserMessage{ChannelID: openChan, Author: fakediscord.User{ID: aliceID, Username: "alice"}, ForwardOf: orig.ID})
	got := lastUser(t, sayInput(t, s, workflows.GenerateReplyInput{
		RequestID: "910000000000000103", DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: openChan, GuildID: refGuild, MessageID: fwd.ID, Content: "",
		References: &workflows.References{Forward: true},
	}))
	if want := "[Forwarded message by carol, " + orig.Timestamp.UTC().Format("2006-01-02 15:04 UTC") + ": words worth passing on]"; !strings.Contains(got, want) {
		t.Errorf("the model was given %q, want the forward quoted as %q", got, want)
	}
}
