// Users acting in Discord, as the gateway delivers it: PostUserMessage and StartInteraction.

package discord

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// UserMessage is a message someone other than the bot posts, for
// PostUserMessage.
type UserMessage struct {
	ChannelID string
	// GuildID is empty for a DM with the bot.
	GuildID string
	Author  User
	// Nick is the author's server nickname, sent in the partial member.
	Nick    string
	Content string
	// ReferencedMessageID makes the message a reply. When the fake knows
	// that message it is also sent whole, as referenced_message.
	ReferencedMessageID string
	// ForwardOf makes the message a forward of that message, which the
	// fake must know (GuildID is its guild): its message_snapshots carry
	// the original's text and time, not its author.
	ForwardOf string
	// Files are attached to the message, served at signed CDN URLs
	// (ExpireAttachmentURLs).
	Files []File
}

// UserInteraction is an interaction someone starts, for StartInteraction.
type UserInteraction struct {
	// Type is 2 (application command) when zero; 3 is a component, 4
	// autocomplete, 5 a modal submit.
	Type      int
	ChannelID string
	// GuildID is empty for an interaction in a DM with the bot.
	GuildID string
	User    User
	// Data is the interaction's data as Discord sends it, e.g.
	// {"id": "…", "name": "usage", "type": 1, "options": […]}: any value
	// that encodes to that JSON (discordgo's ApplicationCommandInteractionData
	// does).
	Data any
}

// PostUserMessage records a message by a user in its channel (it is listed
// by Messages and by GET /channels/{id}/messages) and dispatches its
// MESSAGE_CREATE, as when someone types in Discord. Mentions written as
// <@id> fill the mentions list. The message is recorded even when no
// session receives it; the error then says so. Options.OnMessage does not
// see user messages.
func (s *Server) PostUserMessage(um UserMessage) (Message, error) {
	out, wire, err := s.recordUserMessage(um)
	if err != nil {
		return Message{}, err
	}
	return out, s.Dispatch("MESSAGE_CREATE", wire)
}

// RecordUserMessage records a message as PostUserMessage does, without
// dispatching it: for a caller that hands the event to the bot itself (the
// offline chat), so that the message and its attachments exist for
// GET /channels/{id}/messages/{id} and the CDN.
func (s *Server) RecordUserMessage(um UserMessage) (Message, error) {
	out, _, err := s.recordUserMessage(um)
	return out, err
}

// RecordUserMessageEvent is RecordUserMessage that also returns the
// MESSAGE_CREATE event's data, JSON as the gateway would send it (mentions,
// member, mention_roles, referenced_message): for a caller that hands the
// bot the event Discord would.
func (s *Server) RecordUserMessageEvent(um UserMessage) (Message, []byte, error) {
	out, wire, err := s.recordUserMessage(um)
	if err != nil {
		return Message{}, nil, err
	}
	data, err := json.Marshal(wire)
	return out, data, err
}

func (s *Server) recordUserMessage(um UserMessage) (Message, map[string]any, error) {
	if !isSnowflake(um.ChannelID) || !isSnowflake(um.Author.ID) || (um.GuildID != "" && !isSnowflake(um.GuildID)) {
		return Message{}, nil, fmt.Errorf("user message: channel %q, author %q and guild %q must be snowflakes", um.ChannelID, um.Author.ID, um.GuildID)
	}
	author := asPerson(um.Author)
	now := time.Now().UTC()
	s.mu.Lock()
	m := &Message{ID: s.ids.next(), ChannelID: um.ChannelID, Content: um.Content, Author: author, Timestamp: now}
	m.Attachments = s.storeFilesAtLocked(s.baseURL, um.ChannelID, um.Files)
	var ref map[string]any
	if um.ReferencedMessageID != "" {
		m.ReferencedMessageID, m.Type = um.ReferencedMessageID, 19
		if r, ok := s.messages[um.ReferencedMessageID]; ok {
			ref = r.wire()
		}
	}
	if um.ForwardOf != "" {
		orig, ok := s.messages[um.ForwardOf]
		if !ok {
			s.mu.Unlock()
			return Message{}, nil, fmt.Errorf("user message: forwarded message %s is unknown to the fake: post it first", um.ForwardOf)
		}
		// The reference names the original's guild: the one SetGuildAccess
		// gave its channel, else the forward's own.
		origGuild := um.GuildID
		if g := s.channelGuildLocked(orig.ChannelID); g != nil {
			origGuild = g.ID
		}
		m.Forwarded = &Forwarded{GuildID: origGuild, ChannelID: orig.ChannelID, MessageID: orig.ID, Content: orig.Content, Timestamp: orig.Timestamp}
	}
	s.messages[m.ID] = m
	s.channelMessages[m.ChannelID] = append(s.channelMessages[m.ChannelID], m.ID)
	wire := m.wire()
	out := m.clone()
	s.mu.Unlock()

	wire["mentions"] = s.mentionedUsers(um.Content)
	if ref != nil {
		wire["referenced_message"] = ref
	}
	if um.GuildID != "" {
		wire["guild_id"] = um.GuildID
		var nick any
		if um.Nick != "" {
			nick = um.Nick
		}
		wire["member"] = map[string]any{
			"nick": nick, "roles": []any{}, "joined_at": now.Format(timestampLayout),
			"deaf": false, "mute": false, "flags": 0,
		}
		if ref := wire["message_reference"]; ref != nil {
			ref.(map[string]any)["guild_id"] = um.GuildID
		}
		s.mu.Lock()
		if g := s.guildAccess[um.GuildID]; g != nil {
			s.guildMentionsLocked(g, um.Author.ID, um.Content, wire)
		}
		s.mu.Unlock()
	}
	return out, wire, nil
}

// StartInteraction registers an interaction (see AddInteraction) and
// dispatches its INTERACTION_CREATE, as when someone runs a slash command
// or submits a form. The returned Interaction names it for
// InteractionResponses, Original and FollowUps.
func (s *Server) StartInteraction(ui UserInteraction) (Interaction, error) {
	if !isSnowflake(ui.ChannelID) || !isSnowflake(ui.User.ID) || (ui.GuildID != "" && !isSnowflake(ui.GuildID)) {
		return Interaction{}, fmt.Errorf("user interaction: channel %q, user %q and guild %q must be snowflakes", ui.ChannelID, ui.User.ID, ui.GuildID)
	}
	typ := ui.Type
	if typ == 0 {
		typ = 2
	}
	user := asPerson(ui.User)
	s.mu.Lock()
	id := s.ids.next()
	s.mu.Unlock()
	in := Interaction{ID: id, Token: InteractionToken(id), ChannelID: ui.ChannelID}
	s.AddInteraction(in)

	payload := map[string]any{
		"id": id, "application_id": s.opts.ApplicationID, "type": typ, "token": in.Token, "version": 1,
		"channel_id": ui.ChannelID, "locale": "en-US", "app_permissions": "0", "entitlements": []any{},
	}
	if ui.Data != nil {
		payload["data"] = ui.Data
	}
	if ui.GuildID != "" {
		payload["guild_id"] = ui.GuildID
		payload["guild_locale"] = "en-US"
		payload["channel"] = map[string]any{"id": ui.ChannelID, "type": 0, "guild_id": ui.GuildID}
		payload["member"] = map[string]any{
			"user": user.wire(), "nick": nil, "roles": []any{}, "permissions": "0",
			"joined_at": time.Now().UTC().Format(timestampLayout), "deaf": false, "mute": false, "flags": 0,
		}
		payload["context"] = 0
		payload["authorizing_integration_owners"] = map[string]any{"0": ui.GuildID}
	} else {
		payload["channel"] = map[string]any{"id": ui.ChannelID, "type": 1}
		payload["user"] = user.wire()
		payload["context"] = 1
		payload["authorizing_integration_owners"] = map[string]any{"0": "0"}
	}
	return in, s.Dispatch("INTERACTION_CREATE", payload)
}

// asPerson is u as Discord reports a person: not a bot, discriminator "0"
// (a migrated username) and username "user<id>" when u has none.
func asPerson(u User) User {
	u.Bot = false
	if u.Discriminator == "" {
		u.Discriminator = "0"
	}
	if u.Username == "" {
		u.Username = "user" + u.ID
	}
	return u
}

var userMention = regexp.MustCompile(`<@!?(\d{1,20})>`)

// mentionedUsers is the mentions list Discord computes from <@id> in content.
func (s *Server) mentionedUsers(content string) []map[string]any {
	out := []map[string]any{}
	seen := map[string]bool{}
	for _, m := range userMention.FindAllStringSubmatch(content, -1) {
		id := m[1]
		if seen[id] {
			continue
		}
		seen[id] = true
		u := User{ID: id, Username: "user" + id, Discriminator: "0"}
		if id == s.opts.BotUserID {
			u = s.botUser()
		}
		out = append(out, u.wire())
	}
	return out
}
