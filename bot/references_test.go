//go:build integration

package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

const (
	openChan  = "1300000000000000002" // alice and the bot read it
	secretCh  = "1300000000000000003" // the bot reads it, alice does not
	blindChan = "1300000000000000004" // alice reads it, the bot does not
	staffRole = "1300000000000000005"
	dmChan    = "1300000000000000006"
	openTh    = "1300000000000000007" // a public thread of #open
	privateTh = "1300000000000000008" // a private thread of #open; only the bot is in it
	refCarol  = "1300000000000000011"
	refDave   = "1300000000000000012"
	refErin   = "1300000000000000013"
)

// refsWorld is guestWorld with the test guild's permissions set in the
// Discord stand-in: #general and #open readable by everyone, #secret denied
// to @everyone and allowed to staff (the bot's role, not alice's), #blind
// denied to the bot's own member overwrite; a public thread of #open and a
// private one only the bot is in.
func refsWorld(t *testing.T) *world {
	t.Helper()
	w := guestWorld(t)
	read := int64(discordgo.PermissionViewChannel | discordgo.PermissionReadMessageHistory | discordgo.PermissionSendMessages)
	bot := w.Discord.BotUserID()
	w.Discord.SetGuildAccess(fakediscord.GuildAccess{
		ID: guildID, OwnerID: "1300000000000000009",
		Roles:   []fakediscord.Role{{ID: guildID, Name: "@everyone", Permissions: read}, {ID: staffRole, Name: "staff"}},
		Members: map[string][]string{alice: nil, bot: {staffRole}},
		Channels: map[string][]fakediscord.Overwrite{
			general:  nil,
			openChan: nil,
			secretCh: {
				{ID: guildID, Type: 0, Deny: discordgo.PermissionViewChannel},
				{ID: staffRole, Type: 0, Allow: discordgo.PermissionViewChannel},
			},
			blindChan: {{ID: bot, Type: 1, Deny: discordgo.PermissionViewChannel}},
		},
		Threads: map[string]fakediscord.Thread{
			openTh:    {ParentID: openChan},
			privateTh: {ParentID: openChan, Private: true, Members: []string{bot}},
		},
	})
	return w
}

// record posts a message by someone in the stand-in, as if typed in Discord.
func (w *world) record(t *testing.T, um fakediscord.UserMessage) fakediscord.Message {
	t.Helper()
	m, err := w.Discord.RecordUserMessage(um)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// event is the MESSAGE_CREATE of a message the stand-in recorded, as
// Discord's JSON decodes into discordgo (message_reference, its type,
// message_snapshots), with the guild id the gateway adds.
func (w *world) event(t *testing.T, m fakediscord.Message, guild string) *discordgo.MessageCreate {
	t.Helper()
	s, err := discordhttp.Session("test-token", w.DiscordURL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ChannelMessage(m.ChannelID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.GuildID = guild
	return &discordgo.MessageCreate{Message: got}
}

// modelSaw is the chat request's messages the model was given for the
// reply to messageID, which must have been answered: every message's text,
// one per line.
func (w *world) modelSaw(t *testing.T, messageID string, before int) string {
	t.Helper()
	if res := w.replyResult(t, messageID); res.Outcome != workflows.ReplyReplied {
		t.Fatalf("reply to %s: outcome %s, want replied", messageID, res.Outcome)
	}
	calls := w.OpenRouter.Calls()[before:]
	if len(calls) != 1 {
		t.Fatalf("%d provider calls for one reply", len(calls))
	}
	var body struct {
		Messages []struct{ Content string } `json:"messages"`
	}
	if err := json.Unmarshal(calls[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range body.Messages {
		out = append(out, m.Content)
	}
	return strings.Join(out, "\n")
}

func stamp(m fakediscord.Message) string { return m.Timestamp.UTC().Format("2006-01-02 15:04 UTC") }

// Message links in a message to a personality, through the bot's handler
// and the real workflow: one to a channel alice and the bot read, and one
// to a public thread of it, are quoted with their authors and times. One to
// a channel alice cannot read (the bot can), one to a private thread she is
// not in, one to a channel the bot cannot read (its GET is 403 Missing
// Access), one to a message that does not exist (404 Unknown Message) and
// a reply to that message give the model nothing, and the reply still goes
// out.
func TestMessageLinksThroughTheBot(t *testing.T) {
	w := refsWorld(t)
	open := w.record(t, fakediscord.UserMessage{ChannelID: openChan, GuildID: guildID, Author: fakediscord.User{ID: refCarol, Username: "carol"}, Content: "public plans"})
	secret := w.record(t, fakediscord.UserMessage{ChannelID: secretCh, GuildID: guildID, Author: fakediscord.User{ID: refDave, Username: "dave"}, Content: "classified plans"})
	blind := w.record(t, fakediscord.UserMessage{ChannelID: blindChan, GuildID: guildID, Author: fakediscord.User{ID: refErin, Username: "erin"}, Content: "unseen plans"})
	inThread := w.record(t, fakediscord.UserMessage{ChannelID: openTh, GuildID: guildID, Author: fakediscord.User{ID: refCarol, Username: "carol"}, Content: "threaded plans"})
	inPrivate := w.record(t, fakediscord.UserMessage{ChannelID: privateTh, GuildID: guildID, Author: fakediscord.User{ID: refDave, Username: "dave"}, Content: "private plans"})
	const gone = "1300000000000000098" // no such message: 404 Unknown Message
	link := func(ch, id string) string { return "https://discord.com/channels/" + guildID + "/" + ch + "/" + id }
	ask := w.record(t, fakediscord.UserMessage{
		ChannelID: general, GuildID: guildID, Author: fakediscord.User{ID: alice, Username: "alice"}, ReferencedMessageID: gone,
		Content: "@kerach compare " + link(openChan, open.ID) + " " + link(secretCh, secret.ID) + " " + link(blindChan, blind.ID) + " " + link(openChan, gone) + " " + link(openTh, inThread.ID) + " " + link(privateTh, inPrivate.ID),
	})
	before := len(w.OpenRouter.Calls())
	w.Bot.HandleMessage(context.Background(), w.event(t, ask, guildID))
	saw := w.modelSaw(t, ask.ID, before)
	for _, want := range []string{
		"[Linked message by carol, " + stamp(open) + ": public plans]",
		"[Linked message by carol, " + stamp(inThread) + ": threaded plans]", // a thread reads as its parent
	} {
		if !strings.Contains(saw, want) {
			t.Errorf("the model was given %q, want the readable link quoted as %q", saw, want)
		}
	}
	for _, never := range []string{"classified", "dave", "unseen", "erin", "private plans"} {
		if strings.Contains(saw, never) {
			t.Errorf("the model was given %q: %q must not reach it", saw, never)
		}
	}
	testwait.Until(t, "the reply posted", func() bool { return len(replies(w.posts(general))) == 1 })
}

// A forward (message_reference type 1, FORWARD, with message_snapshots):
// in a DM it goes on with the personality last talked to there, quoted
// with its original's author and time; in a guild channel a bare forward —
// even of the personality's own message — addresses no one, while one
// whose own text mentions the personality is answered with the forward
// quoted, and a reply to a forward quotes what it forwarded.
func TestForwardsThroughTheBot(t *testing.T) {
	w := refsWorld(t)
	orig := w.record(t, fakediscord.UserMessage{ChannelID: openChan, GuildID: guildID, Author: fakediscord.User{ID: refCarol, Username: "carol"}, Content: "words worth passing on"})
	quoted := "[Forwarded message by carol, " + stamp(orig) + ": words worth passing on]"

	w.say(alice, dmChan, "", "@kerach hi")
	testwait.Until(t, "the DM reply", func() bool { return len(replies(w.posts(dmChan))) == 1 })
	testwait.Until(t, "the DM turns saved", func() bool { return w.DB.ConversationHistory.Query().CountX(context.Background()) == 2 })
	fwd := w.record(t, fakediscord.UserMessage{ChannelID: dmChan, Author: fakediscord.User{ID: alice, Username: "alice"}, ForwardOf: orig.ID})
	ev := w.event(t, fwd, "")
	if ev.MessageReference == nil || ev.MessageReference.Type != discordgo.MessageReferenceTypeForward || len(ev.MessageSnapshots) != 1 || ev.Content != "" {
		t.Fatalf("the forward's event %+v: want an empty message_reference type 1 with one snapshot", ev.Message)
	}
	before := len(w.OpenRouter.Calls())
	w.Bot.HandleMessage(context.Background(), ev)
	if saw := w.modelSaw(t, fwd.ID, before); !strings.Contains(saw, quoted) {
		t.Errorf("DM: the model was given %q, want the forward quoted as %q", saw, quoted)
	}

	w.say(alice, general, guildID, "@kerach first")
	testwait.Until(t, "the first reply", func() bool { return len(replies(w.posts(general))) == 1 })
	kerachs := replies(w.posts(general))[0]
	testwait.Until(t, "the turns saved", func() bool { return w.DB.ConversationHistory.Query().CountX(context.Background()) == 6 })
	bare := w.record(t, fakediscord.UserMessage{ChannelID: general, GuildID: guildID, Author: fakediscord.User{ID: alice, Username: "alice"}, ForwardOf: kerachs.ID})
	w.Bot.HandleMessage(context.Background(), w.event(t, bare, guildID))
	mentioned := w.record(t, fakediscord.UserMessage{ChannelID: general, GuildID: guildID, Author: fakediscord.User{ID: alice, Username: "alice"}, ForwardOf: orig.ID, Content: "@kerach look"})
	before = len(w.OpenRouter.Calls())
	w.Bot.HandleMessage(context.Background(), w.event(t, mentioned, guildID))
	if saw := w.modelSaw(t, mentioned.ID, before); !strings.Contains(saw, quoted) {
		t.Errorf("guild: the model was given %q, want the forward quoted as %q", saw, quoted)
	}
	if _, err := w.Client.DescribeWorkflowExecution(context.Background(), workflows.GenerateReplyID(bare.ID), ""); err == nil {
		t.Errorf("a bare forward of Kerach's message in a guild channel started a reply")
	}

	plain := w.record(t, fakediscord.UserMessage{ChannelID: general, GuildID: guildID, Author: fakediscord.User{ID: alice, Username: "alice"}, ForwardOf: orig.ID})
	reply := w.record(t, fakediscord.UserMessage{ChannelID: general, GuildID: guildID, Author: fakediscord.User{ID: alice, Username: "alice"}, ReferencedMessageID: plain.ID, Content: "@kerach what of this?"})
	before = len(w.OpenRouter.Calls())
	w.Bot.HandleMessage(context.Background(), w.event(t, reply, guildID))
	if saw, want := w.modelSaw(t, reply.ID, before), "[Replying to alice, "+stamp(plain)+": (forwarded) words worth passing on]"; !strings.Contains(saw, want) {
		t.Errorf("reply to a forward: the model was given %q, want %q", saw, want)
	}
}
