package devchat

import (
	"regexp"
	"strconv"
	"strings"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// typedMentionRE is a mention typed the way a Discord client's autocomplete
// takes it: @name (a member), @&name (a role) or #name (a channel), after
// the start of the line or a character that cannot be part of a word, a
// URL or a mention.
var typedMentionRE = regexp.MustCompile(`(^|[^\w<&@#/])(@&|@|#)([A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*)`)

// withMentions writes the guild's members, roles and channels named in text
// (@you, @rosa, @Tzurot, @&regulars, #general, #random…) in Discord's
// <@id>, <@&id> and <#id> forms, as a client sends them; any other @word
// (a personality's alias) or #word stays as typed.
func (c *Chat) withMentions(text string) string {
	return typedMentionRE.ReplaceAllStringFunc(text, func(s string) string {
		sub := typedMentionRE.FindStringSubmatch(s)
		if m := c.typedMention(sub[2], sub[3]); m != "" {
			return sub[1] + m
		}
		return s
	})
}

// link is /link [#channel] [N]: the message link
// (https://discord.com/channels/<guild>/<channel>/<message>) of the N-th
// last message shown in that channel (the current one, and the last, by
// default), to paste into a message for a personality to follow. It names
// the message's author and text only in a channel you can read (canRead):
// of #staff you get the link alone, which a personality does not follow
// for you either.
func (c *Chat) link(args string) {
	c.mu.Lock()
	ch, dm := c.channel, c.dm
	c.mu.Unlock()
	n, name := 1, ""
	for _, f := range strings.Fields(args) {
		if k, err := strconv.Atoi(f); err == nil && k > 0 {
			n = k
			continue
		}
		name = f
	}
	label := c.channelPrompt()
	if name != "" {
		id, ok := c.guildChannel(name)
		if !ok {
			c.println("There is no #" + strings.TrimPrefix(name, "#") + " yet: the server's channels are " + strings.Join(c.channelNames(), ", ") + " and #staff.")
			return
		}
		ch, label = id, "#"+strings.TrimPrefix(strings.ToLower(name), "#")
	}
	var shown []fakediscord.Message
	for _, m := range c.opts.Discord.Messages(ch) {
		if !m.Deleted && !m.Ephemeral() {
			shown = append(shown, m)
		}
	}
	if len(shown) < n && !c.canRead(ch) {
		c.println("You cannot read " + strings.TrimSuffix(label, " > ") + ": none of its messages are yours to link.")
		return
	}
	if len(shown) < n {
		c.println("There are only " + strconv.Itoa(len(shown)) + " messages in " + strings.TrimSuffix(label, " > ") + ": /link 1 is the last one.")
		return
	}
	m := shown[len(shown)-n]
	guildID := ChatGuildID
	if ch == dm && dm != "" {
		guildID = "@me"
	}
	url := "https://discord.com/channels/" + guildID + "/" + ch + "/" + m.ID
	if !c.canRead(ch) {
		// As in Discord, a channel you cannot read shows you nothing of
		// its messages: the link alone, as someone who can might paste it.
		c.println(url + "\n    (You cannot read " + strings.TrimSuffix(label, " > ") + ": a personality does not follow this link for you.)")
		return
	}
	who := m.Author.Username
	if m.Author.ID == ChatUserID {
		who = "you" // as the chat shows your own lines
	}
	c.println(url + "  ← " + who + ": " + oneLine(m.Content))
}

// oneLine is s on one line, at most 60 runes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}
