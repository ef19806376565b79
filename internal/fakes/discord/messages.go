package discord

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// User is a message author as Discord reports it.
type User struct {
	ID       string
	Username string
	// Discriminator is "0" for migrated users and bots, "0000" for
	// webhook authors.
	Discriminator string
	// GlobalName is the user's display name; empty is Discord's null.
	GlobalName string
	Avatar     string
	Bot        bool
}

// Attachment is a stored file of a message.
type Attachment struct {
	ID          string
	Filename    string
	ContentType string
	Size        int
	// URL points back at this server, which serves the bytes like the CDN;
	// messages carry it signed (signURL), as Discord's CDN URLs are.
	URL  string
	Data []byte
}

// Message is the fake's record of a message, in its current state.
type Message struct {
	ID        string
	ChannelID string
	// Type is 0 for a normal message and 19 for a reply.
	Type    int
	Content string
	Author  User
	// WebhookID is set for webhook messages and, as on Discord, for
	// interaction responses and follow-ups (where it is the application id).
	WebhookID     string
	ApplicationID string
	// AvatarURL is the avatar_url override of a webhook execution.
	AvatarURL string
	Flags     int
	TTS       bool
	Embeds    []map[string]any
	// Components are message components (action rows) as sent.
	Components          []map[string]any
	Attachments         []Attachment
	ReferencedMessageID string
	// Forwarded is set on a forward: what it forwards, as its
	// message_reference (type 1, FORWARD) and message_snapshots show it.
	Forwarded *Forwarded
	// Reactions holds the emoji the bot itself reacted with.
	Reactions []string
	Timestamp time.Time
	// EditedTimestamp is zero until the message is edited.
	EditedTimestamp time.Time
	// AllowedMentions is the allowed_mentions object of the request that
	// set the content, nil when it sent none (Discord's default
	// allowances). An edit that changes content parses its mentions again
	// under its own allowed_mentions, not the post's: Edit Message, Edit
	// Webhook Message (https://discord.com/developers/docs/resources/message#edit-message).
	AllowedMentions map[string]any
	// History is the content as posted, then after each edit, in order.
	History []string
	// Deleted messages stay in the record, so tests can see both what was
	// sent and that it was removed.
	Deleted bool
	// hidden messages (originals of component interactions) are not listed
	// in their channel because they stand for messages the fake never saw.
	hidden bool
}

// Ephemeral reports whether only the invoking user would see the message.
func (m Message) Ephemeral() bool { return m.Flags&ephemeralFlag != 0 }

// Forwarded is the original of a forward.
type Forwarded struct {
	GuildID, ChannelID, MessageID string
	Content                       string
	Timestamp                     time.Time
}

func (m *Message) clone() Message {
	c := *m
	c.Embeds = slices.Clone(m.Embeds)
	c.Components = slices.Clone(m.Components)
	c.Attachments = slices.Clone(m.Attachments)
	c.Reactions = slices.Clone(m.Reactions)
	c.History = slices.Clone(m.History)
	return c
}

const timestampLayout = "2006-01-02T15:04:05.000000-07:00"

func (u User) wire() map[string]any {
	var avatar, globalName any
	if u.Avatar != "" {
		avatar = u.Avatar
	}
	if u.GlobalName != "" {
		globalName = u.GlobalName
	}
	return map[string]any{
		"id":            u.ID,
		"username":      u.Username,
		"discriminator": u.Discriminator,
		"global_name":   globalName,
		"avatar":        avatar,
		"bot":           u.Bot,
	}
}

func (m *Message) wire() map[string]any {
	attachments := make([]map[string]any, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		attachments = append(attachments, map[string]any{
			"id":           a.ID,
			"filename":     a.Filename,
			"size":         a.Size,
			"url":          signURL(a.URL),
			"proxy_url":    signURL(a.URL),
			"content_type": a.ContentType,
		})
	}
	var edited any
	if !m.EditedTimestamp.IsZero() {
		edited = m.EditedTimestamp.Format(timestampLayout)
	}
	out := map[string]any{
		"id":               m.ID,
		"type":             m.Type,
		"channel_id":       m.ChannelID,
		"content":          m.Content,
		"author":           m.Author.wire(),
		"attachments":      attachments,
		"embeds":           nonNil(m.Embeds),
		"components":       nonNil(m.Components),
		"mentions":         []any{},
		"mention_roles":    []any{},
		"mention_everyone": false,
		"pinned":           false,
		"tts":              m.TTS,
		"timestamp":        m.Timestamp.Format(timestampLayout),
		"edited_timestamp": edited,
		"flags":            m.Flags,
	}
	if m.WebhookID != "" {
		out["webhook_id"] = m.WebhookID
	}
	if m.ApplicationID != "" {
		out["application_id"] = m.ApplicationID
	}
	if m.ReferencedMessageID != "" {
		out["message_reference"] = map[string]any{
			"type":       0,
			"channel_id": m.ChannelID,
			"message_id": m.ReferencedMessageID,
		}
	}
	if f := m.Forwarded; f != nil {
		ref := map[string]any{"type": 1, "channel_id": f.ChannelID, "message_id": f.MessageID}
		if f.GuildID != "" {
			ref["guild_id"] = f.GuildID
		}
		out["message_reference"] = ref
		// A snapshot has no author (https://discord.com/developers/docs/resources/message#message-snapshot-object).
		out["message_snapshots"] = []map[string]any{{"message": map[string]any{
			"type": 0, "content": f.Content, "embeds": []any{}, "attachments": []any{},
			"timestamp": f.Timestamp.Format(timestampLayout), "edited_timestamp": nil, "flags": 0,
			"mentions": []any{}, "mention_roles": []any{},
		}}}
	}
	if len(m.Reactions) > 0 {
		var rs []map[string]any
		for _, e := range m.Reactions {
			rs = append(rs, map[string]any{"count": 1, "me": true, "emoji": map[string]any{"id": nil, "name": e}})
		}
		out["reactions"] = rs
	}
	return out
}

func nonNil(xs []map[string]any) []map[string]any {
	if xs == nil {
		return []map[string]any{}
	}
	return xs
}

// newMessageLocked stores a message built from a create payload.
func (s *Server) newMessageLocked(c *call, channelID string, author User, body map[string]any, files []File) *Message {
	m := &Message{
		ID:        s.ids.next(),
		ChannelID: channelID,
		Content:   str(body, "content"),
		Author:    author,
		Flags:     num(body, "flags"),
		TTS:       body["tts"] == true,
		Timestamp: time.Now().UTC(),
	}
	m.Embeds = objects(body, "embeds")
	m.Components = objects(body, "components")
	m.AllowedMentions = obj(body, "allowed_mentions")
	if ref := obj(body, "message_reference"); ref != nil {
		m.ReferencedMessageID = str(ref, "message_id")
		m.Type = 19
	}
	m.Attachments = s.storeFilesLocked(c, channelID, files)
	m.History = []string{m.Content}
	s.messages[m.ID] = m
	if channelID != "" {
		s.channelMessages[channelID] = append(s.channelMessages[channelID], m.ID)
	}
	return m
}

func (s *Server) storeFilesLocked(c *call, channelID string, files []File) []Attachment {
	return s.storeFilesAtLocked(c.baseURL(), channelID, files)
}

func (s *Server) storeFilesAtLocked(base, channelID string, files []File) []Attachment {
	var out []Attachment
	ch := channelID
	if ch == "" {
		ch = "0"
	}
	for _, f := range files {
		a := Attachment{
			ID:          s.ids.next(),
			Filename:    f.Name,
			ContentType: f.ContentType,
			Size:        len(f.Data),
			Data:        f.Data,
		}
		a.URL = base + "/attachments/" + ch + "/" + a.ID + "/" + f.Name
		s.attachments[a.ID] = a
		out = append(out, a)
	}
	return out
}

// editMessageLocked applies a PATCH payload: only present fields change.
// Without an "attachments" list the message keeps its attachments and gains
// the uploaded files; with one, it holds exactly what the list names: the
// existing attachments by their id, new files by the n of their files[n]
// field (from API v10, "the attachments array must contain all attachments
// that should be present after edit, including retained and new
// attachments provided in the request body": Edit Message, Edit Webhook
// Message, https://discord.com/developers/docs/reference#uploading-files).
func (s *Server) editMessageLocked(c *call, m *Message, body map[string]any, files []File) *reply {
	if rep := validateContent(body, files); rep != nil {
		return rep
	}
	next := m.clone()
	if has(body, "content") {
		next.Content = str(body, "content")
		next.AllowedMentions = obj(body, "allowed_mentions")
	}
	if has(body, "embeds") {
		next.Embeds = objects(body, "embeds")
	}
	if has(body, "components") {
		next.Components = objects(body, "components")
	}
	if has(body, "flags") {
		// Only embed suppression can be toggled on an existing message.
		next.Flags = next.Flags&^suppressEmbedsFlag | num(body, "flags")&suppressEmbedsFlag
	}
	if has(body, "attachments") {
		keep := map[string]bool{}
		for _, a := range objects(body, "attachments") {
			keep[str(a, "id")] = true
		}
		var kept []Attachment
		for _, a := range next.Attachments {
			if keep[a.ID] {
				kept = append(kept, a)
			}
		}
		next.Attachments = kept
		var listed []File
		for _, f := range files {
			if keep[f.id] {
				listed = append(listed, f)
			}
		}
		files = listed
	}
	next.Attachments = append(next.Attachments, s.storeFilesLocked(c, m.ChannelID, files)...)
	if strings.TrimSpace(next.Content) == "" && len(next.Embeds) == 0 && len(next.Attachments) == 0 && len(next.Components) == 0 {
		rep := apiError(http.StatusBadRequest, codeEmptyMessage, "Cannot send an empty message")
		return rep.ptr()
	}
	next.Flags &^= loadingFlag
	next.EditedTimestamp = time.Now().UTC()
	next.History = append(next.History, next.Content)
	*m = next
	return nil
}

func (r reply) ptr() *reply { return &r }

func messageReply(status int, m *Message) reply {
	rep := jsonReply(status, m.wire())
	rep.notify = []Message{m.clone()}
	return rep
}

func unknownMessage() reply {
	return apiError(http.StatusNotFound, codeUnknownMessage, "Unknown Message")
}

// Handlers for /channels/{channel_id}/messages...

func (s *Server) postChannelMessage(c *call) reply {
	channelID := c.params["channel_id"]
	if user, ok := s.dmUsers[channelID]; ok && s.blockedDMs[user] {
		return apiError(http.StatusForbidden, codeCannotMessageUser, "Cannot send messages to this user")
	}
	if rep := validateNew(c.body.object, c.body.files); rep != nil {
		return *rep
	}
	// enforce_nonce: a second create with the same nonce by the same author in
	// the same channel returns the first message (Discord keeps nonces for a
	// few minutes; the fake keeps them for its lifetime).
	nonceKey := ""
	if n := nonceOf(c.body.object); n != "" && c.body.object["enforce_nonce"] == true {
		nonceKey = channelID + "/" + s.botUser().ID + "/" + n
		if id, ok := s.nonces[nonceKey]; ok {
			if prev, ok := s.messages[id]; ok {
				return messageReply(http.StatusOK, prev)
			}
		}
	}
	m := s.newMessageLocked(c, channelID, s.botUser(), c.body.object, c.body.files)
	if nonceKey != "" {
		s.nonces[nonceKey] = m.ID
	}
	// Bots may only send the suppress flags on a normal message.
	m.Flags &= suppressEmbedsFlag | suppressNotificationFlag
	return messageReply(http.StatusOK, m)
}

// channelMessageLocked finds a channel's message: 403 Missing Access
// (50001) when the bot cannot read that channel, else 404 Unknown Message
// (10008) when it is not there
// (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
func (s *Server) channelMessageLocked(c *call) (*Message, *reply) {
	if rep := s.botReadsLocked(c.params["channel_id"]); rep != nil {
		return nil, rep
	}
	m, ok := s.messages[c.params["message_id"]]
	if !ok || m.Deleted || m.ChannelID != c.params["channel_id"] {
		rep := unknownMessage()
		return nil, &rep
	}
	return m, nil
}

// withMessage makes a route's handler of act, which answers about the one
// message lookup finds; lookup's refusal (Unknown Message, a bad webhook
// token…) is the answer when it finds none.
func withMessage(lookup func(s *Server, c *call) (*Message, *reply), act func(s *Server, c *call, m *Message) reply) func(s *Server, c *call) reply {
	return func(s *Server, c *call) reply {
		m, rep := lookup(s, c)
		if rep != nil {
			return *rep
		}
		return act(s, c, m)
	}
}

// getMessage answers GET on a channel or webhook message.
func getMessage(s *Server, _ *call, m *Message) reply {
	return jsonReply(http.StatusOK, s.servedLocked(m))
}

// servedLocked is m as the REST API serves it: with its mentions, as in
// its MESSAGE_CREATE (https://discord.com/developers/docs/resources/message#message-object:
// mentions are user objects, each with its partial member in a guild
// channel; mention_roles the roles mentioned).
func (s *Server) servedLocked(m *Message) map[string]any {
	w := m.wire()
	w["mentions"] = s.mentionedUsers(m.Content)
	if g := s.channelGuildLocked(m.ChannelID); g != nil {
		s.guildMentionsLocked(g, m.Author.ID, m.Content, w)
	}
	return w
}

// deleteMessage answers DELETE on a channel or webhook message; OnMessage
// sees it deleted, as the gateway's MESSAGE_DELETE tells clients.
func deleteMessage(_ *Server, _ *call, m *Message) reply {
	m.Deleted = true
	rep := noContent()
	rep.notify = []Message{m.clone()}
	return rep
}

func (s *Server) listChannelMessages(c *call) reply {
	q := c.r.URL.Query()
	limit := 50
	if l, err := strconv.Atoi(q.Get("limit")); err == nil {
		if l < 1 || l > 100 {
			return formError(fieldError("NUMBER_TYPE_MAX", "int value should be between 1 and 100.", "limit"))
		}
		limit = l
	}
	before, after := q.Get("before"), q.Get("after")
	ids := s.channelMessages[c.params["channel_id"]]
	out := []map[string]any{}
	// Discord returns newest first.
	for i := len(ids) - 1; i >= 0 && len(out) < limit; i-- {
		m := s.messages[ids[i]]
		if m.Deleted || m.hidden || m.Ephemeral() {
			continue
		}
		if before != "" && !snowflakeLess(m.ID, before) {
			continue
		}
		if after != "" && !snowflakeLess(after, m.ID) {
			continue
		}
		out = append(out, s.servedLocked(m))
	}
	return jsonReply(http.StatusOK, out)
}

func (s *Server) patchChannelMessage(c *call, m *Message) reply {
	if m.Author.ID != s.opts.BotUserID || m.WebhookID != "" {
		return apiError(http.StatusForbidden, codeCannotEditOthers, "Cannot edit a message authored by another user")
	}
	if rep := s.editMessageLocked(c, m, c.body.object, c.body.files); rep != nil {
		return *rep
	}
	return messageReply(http.StatusOK, m)
}

func (s *Server) putReaction(c *call, m *Message) reply {
	if e := c.params["emoji"]; !slices.Contains(m.Reactions, e) {
		m.Reactions = append(slices.Clone(m.Reactions), e)
	}
	return noContent()
}

func (s *Server) deleteReaction(c *call, m *Message) reply {
	e := c.params["emoji"]
	m.Reactions = slices.DeleteFunc(slices.Clone(m.Reactions), func(x string) bool { return x == e })
	return noContent()
}

func (s *Server) typing(c *call) reply {
	return noContent()
}

// nonceOf reads a message nonce, which Discord accepts as a string or an integer.
func nonceOf(body map[string]any) string {
	switch n := body["nonce"].(type) {
	case string:
		return n
	case float64:
		return strconv.FormatInt(int64(n), 10)
	}
	return ""
}
