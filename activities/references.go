package activities

// Referenced messages: the reply chain of the message answered, the Discord
// message links in its text and the message it forwards, fetched here from
// Discord by their ids (the bot passes ids only, so no message content
// enters workflow history) and given to the model with their authors and
// times, within a token budget.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/msglink"
)

// MessageRef is one Discord message by its channel and message ids.
type MessageRef struct {
	ChannelID string `json:"channel_id"`
	MessageID string `json:"message_id"`
}

// References are what the message answered points at, as the gateway event
// showed it: ids only. The message links in its text are followed whenever
// References is set (the bot sets it when the text has one).
type References struct {
	// ReplyTo is the message replied to (message_reference of type 0,
	// DEFAULT); the chain of replies is followed from it.
	ReplyTo *MessageRef `json:"reply_to,omitempty"`
	// Forward is set when the message answered is a forward
	// (message_reference of type 1, FORWARD): it is fetched for its
	// message_snapshots.
	Forward bool `json:"forward,omitempty"`
}

// DefaultReferenceTokens bounds the referenced messages of one prompt in
// EstimateTokens' units: a quarter of DefaultPromptTokens, so references
// never crowd out the conversation. A message that does not fit whole is
// left out, with those after it.
const DefaultReferenceTokens = DefaultPromptTokens / 4

// maxReferenceRunes bounds one referenced message's text.
const maxReferenceRunes = 1000

// referenced is one message given to the model; mentioned are the users
// its content mentions, as Discord served the message.
type referenced struct {
	label, author string
	at            time.Time
	content       string
	mentioned     []*discordgo.User
}

func (r referenced) line() string {
	return fmt.Sprintf("[%s %s, %s: %s]", r.label, cleanName(r.author), r.at.UTC().Format("2006-01-02 15:04 UTC"), truncRunes(r.content, maxReferenceRunes))
}

func truncRunes(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// ownText is what m says: its content, or for a forward (whose content is
// empty) the text it forwards, marked so; with the users it mentions.
func ownText(m *discordgo.Message) (string, []*discordgo.User) {
	if len(m.MessageSnapshots) > 0 && m.MessageSnapshots[0].Message != nil && strings.TrimSpace(m.Content) == "" {
		return "(forwarded) " + m.MessageSnapshots[0].Message.Content, m.MessageSnapshots[0].Message.Mentions
	}
	return m.Content, m.Mentions
}

// referenceNames are the names a referenced message's mentions are written
// with: the users it mentions, as Discord served it, by display name
// (discordgo keeps no partial member of a mentioned user, so no nickname),
// over names, the current message's.
func referenceNames(names MentionNames, mentioned []*discordgo.User) MentionNames {
	if len(mentioned) == 0 {
		return names
	}
	users := make(map[string]string, len(names.Users)+len(mentioned))
	for id, n := range names.Users {
		users[id] = n
	}
	for _, u := range mentioned {
		if u == nil || u.ID == "" {
			continue
		}
		if n := u.DisplayName(); n != "" {
			users[u.ID] = n
		}
	}
	names.Users = users
	return names
}

func authorOf(m *discordgo.Message) string {
	if m.Member != nil && m.Member.Nick != "" {
		return m.Member.Nick
	}
	if m.Author != nil {
		if m.Author.GlobalName != "" {
			return m.Author.GlobalName
		}
		return m.Author.Username
	}
	return "someone"
}

// withReferences puts the messages in.Content refers to before it, one line
// each: the message it forwards, the reply chain nearest first, then the
// linked messages the speaker and the bot can both read — at most max in
// all, within DefaultReferenceTokens, their mentions written as names
// (referenceNames, within lim per message). A message that cannot be
// fetched is left out; references never fail the reply.
func (a *Activities) withReferences(ctx context.Context, in GenerateInput, content string, max int, names MentionNames, lim MentionLimits) string {
	if a.Discord == nil {
		return content
	}
	var refs []referenced
	add := func(r referenced) bool {
		if len(refs) >= max {
			return false
		}
		r.content = ReplaceMentions(r.content, referenceNames(names, r.mentioned), lim)
		refs = append(refs, r)
		return true
	}
	if in.References != nil && in.References.Forward && in.MessageID != "" {
		if r, ok := a.forwarded(ctx, in); ok {
			add(r)
		}
	}
	if in.References != nil && in.References.ReplyTo != nil {
		next := in.References.ReplyTo
		label := "Replying to"
		for next != nil && len(refs) < max {
			m, err := a.Discord.ChannelMessage(next.ChannelID, next.MessageID, discordgo.WithContext(ctx))
			if err != nil {
				a.Log.Warn("referenced message not fetched", "message", next.MessageID, "err", err)
				break
			}
			text, mentioned := ownText(m)
			add(referenced{label: label, author: authorOf(m), at: m.Timestamp, content: text, mentioned: mentioned})
			label, next = "which replied to", nil
			if ref := m.MessageReference; ref != nil && ref.Type == discordgo.MessageReferenceTypeDefault && ref.MessageID != "" {
				next = &MessageRef{ChannelID: ref.ChannelID, MessageID: ref.MessageID}
				if next.ChannelID == "" {
					next.ChannelID = m.ChannelID
				}
			}
		}
	}
	var links []msglink.Link
	if in.References != nil {
		links = msglink.Parse(in.Content)
	}
	for _, l := range links {
		if len(refs) >= max {
			break
		}
		if !a.bothCanRead(ctx, in, l) {
			continue
		}
		m, err := a.Discord.ChannelMessage(l.ChannelID, l.MessageID, discordgo.WithContext(ctx))
		if err != nil {
			a.Log.Warn("linked message not fetched", "message", l.MessageID, "err", err)
			continue
		}
		text, mentioned := ownText(m)
		add(referenced{label: "Linked message by", author: authorOf(m), at: m.Timestamp, content: text, mentioned: mentioned})
	}
	budget := DefaultReferenceTokens
	var lines []string
	for _, r := range refs {
		l := r.line()
		if budget -= EstimateTokens(l); budget < 0 {
			break
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return content
	}
	return strings.Join(lines, "\n") + "\n" + content
}

// forwarded is the message the answered one forwards: its snapshot's text
// and time, and its author when the original can be fetched and both the
// speaker and the bot may read its channel (a snapshot carries no author;
// the original's guild is the message_reference's, so a forward into a DM
// names its author too).
func (a *Activities) forwarded(ctx context.Context, in GenerateInput) (referenced, bool) {
	m, err := a.Discord.ChannelMessage(in.ChannelID, in.MessageID, discordgo.WithContext(ctx))
	if err != nil || len(m.MessageSnapshots) == 0 || m.MessageSnapshots[0].Message == nil {
		if err != nil {
			a.Log.Warn("forward not fetched", "message", in.MessageID, "err", err)
		}
		return referenced{}, false
	}
	snap := m.MessageSnapshots[0].Message
	r := referenced{label: "Forwarded message by", author: "someone", at: snap.Timestamp, content: snap.Content, mentioned: snap.Mentions}
	if ref := m.MessageReference; ref != nil && ref.MessageID != "" && ref.ChannelID != "" && ref.GuildID != "" &&
		a.bothCanReadIn(ctx, ref.GuildID, ref.ChannelID, in.DiscordUserID) {
		if orig, err := a.Discord.ChannelMessage(ref.ChannelID, ref.MessageID, discordgo.WithContext(ctx)); err == nil {
			r.author = authorOf(orig)
		}
	}
	return r, true
}

// bothCanRead reports whether a linked message may be followed: it is in
// the guild the message answered was written in (never a DM or another
// guild), and both the speaker and the bot can read its channel, by the
// permissions Discord documents (msglink.CanReadChannel: the guild's
// @everyone role and their roles, the owner and ADMINISTRATOR, the
// channel's overwrites in order; a thread by its parent's, a private
// thread only for its members and moderators), read over REST. Any doubt
// is a no.
func (a *Activities) bothCanRead(ctx context.Context, in GenerateInput, l msglink.Link) bool {
	if in.GuildID == "" || l.GuildID != in.GuildID {
		return false
	}
	return a.bothCanReadIn(ctx, in.GuildID, l.ChannelID, in.DiscordUserID)
}

// bothCanReadIn reports whether userID and the bot can both read
// channelID of guildID (msglink.CanReadChannel); a failure is a no.
func (a *Activities) bothCanReadIn(ctx context.Context, guildID, channelID, userID string) bool {
	if userID == "" {
		return false
	}
	me, err := a.botUserID(ctx)
	if err != nil {
		return false
	}
	ok, err := msglink.CanReadChannel(ctx, a.Discord, guildID, channelID, userID, me)
	if err != nil {
		a.Log.Warn("channel's permissions not read", "channel", channelID, "err", err)
	}
	return ok && err == nil
}

// botUserID is the bot's own user id: from the session's state when the
// gateway filled it, else GET /users/@me.
func (a *Activities) botUserID(ctx context.Context) (string, error) {
	if st := a.Discord.State; st != nil && st.User != nil {
		return st.User.ID, nil
	}
	u, err := a.Discord.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return u.ID, nil
}
