package discord

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
)

type webhook struct {
	id, token, channelID, name, avatar string
	// appID is the application that made the webhook; "" for one a user
	// made in Server Settings → Integrations.
	appID   string
	deleted bool
}

// DenyWebhooks removes the bot's Manage Webhooks permission in channelID:
// creating or listing webhooks there answers 403 "Missing Permissions".
func (s *Server) DenyWebhooks(channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deniedWebhooks[channelID] = true
}

// DeleteWebhooks deletes every webhook of channelID, as a server admin does
// in Server Settings → Integrations: executing one afterwards answers 404
// "Unknown Webhook" (10015).
func (s *Server) DeleteWebhooks(channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.webhooks {
		if h.channelID == channelID {
			h.deleted = true
		}
	}
}

// AddWebhooks makes n incoming webhooks in channelID owned by appID (""
// for webhooks a user made in Server Settings), as other integrations
// leave them; Discord allows 15 per channel (30007 past that).
func (s *Server) AddWebhooks(channelID, appID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		h := &webhook{id: s.ids.next(), channelID: channelID, name: "Integration", appID: appID}
		h.token = webhookToken(h.id)
		s.webhookTokens[h.token] = true
		s.webhooks[h.id] = h
	}
}

// RefuseWebhookUsernames makes webhook usernames containing any of substrs
// (any case) refused with 400 50035 USERNAME_INVALID: Discord documents
// that it enforces rules on names beyond those it lists "for the sake of
// spam and abuse mitigation", and a client must handle the refusal.
func (s *Server) RefuseWebhookUsernames(substrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusedNames = append(s.refusedNames, substrs...)
}

// WebhooksCreated counts successful webhook creations in channelID,
// deleted ones included, so tests can assert the bot reuses webhooks.
func (s *Server) WebhooksCreated(channelID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhooksCreated[channelID]
}

func (h *webhook) wire(app string, owner User, withToken bool) map[string]any {
	var avatar any
	if h.avatar != "" {
		avatar = h.avatar
	}
	out := map[string]any{
		"id":             h.id,
		"type":           1,
		"channel_id":     h.channelID,
		"guild_id":       nil,
		"name":           h.name,
		"avatar":         avatar,
		"application_id": app,
		"user":           owner.wire(),
	}
	if h.appID != app {
		// Made by another integration or by a user: not ours.
		out["application_id"] = nil
		if h.appID != "" {
			out["application_id"] = h.appID
		}
		delete(out, "user")
	}
	if withToken {
		out["token"] = h.token
	}
	return out
}

// webhookToken is a token in the shape of Discord's: 68 base64url
// characters. It derives from the id so runs are reproducible; secrecy is
// moot in a fake, but the shape lets tests check that redaction knows it.
func webhookToken(id string) string {
	sum := sha512.Sum512([]byte("fake-webhook-token:" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:51])
}

// InteractionToken is an interaction token in the shape of Discord's:
// unpadded base64url of "interaction:<id>:<random>", 200-odd characters.
// StartInteraction issues these; tests building interactions by hand can
// too, so that what they send looks like what Discord sends.
func InteractionToken(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("interaction:" + id + ":" + randomHex(64)))
}

// isDMLocked reports whether channelID is a DM channel the bot opened: a
// DM has no webhooks, and Discord answers 50003 to listing or making one.
func (s *Server) isDMLocked(channelID string) bool {
	for _, id := range s.dmChannels {
		if id == channelID {
			return true
		}
	}
	return false
}

func missingPermissions() reply {
	return apiError(http.StatusForbidden, codeMissingPermissions, "Missing Permissions")
}

func unknownWebhook() reply {
	return apiError(http.StatusNotFound, codeUnknownWebhook, "Unknown Webhook")
}

func (s *Server) activeWebhooksLocked(channelID string) []*webhook {
	var out []*webhook
	for _, h := range s.webhooks {
		if h.channelID == channelID && !h.deleted {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b *webhook) int {
		if snowflakeLess(a.id, b.id) {
			return -1
		}
		return 1
	})
	return out
}

func (s *Server) listWebhooks(c *call) reply {
	channelID := c.params["channel_id"]
	if s.isDMLocked(channelID) {
		return apiError(http.StatusBadRequest, codeActionOnDMChannel, "Cannot execute action on a DM channel")
	}
	if s.deniedWebhooks[channelID] {
		return missingPermissions()
	}
	out := []map[string]any{}
	for _, h := range s.activeWebhooksLocked(channelID) {
		out = append(out, h.wire(s.opts.ApplicationID, s.botUser(), true))
	}
	return jsonReply(http.StatusOK, out)
}

func (s *Server) createWebhook(c *call) reply {
	channelID := c.params["channel_id"]
	if s.isDMLocked(channelID) {
		return apiError(http.StatusBadRequest, codeActionOnDMChannel, "Cannot execute action on a DM channel")
	}
	if s.deniedWebhooks[channelID] {
		return missingPermissions()
	}
	name := str(c.body.object, "name")
	if rep := validateUsername("name", name); rep != nil {
		return *rep
	}
	if len(s.activeWebhooksLocked(channelID)) >= maxWebhooksPerChannel {
		return apiError(http.StatusBadRequest, codeMaxWebhooks, "Maximum number of webhooks reached (15)")
	}
	h := &webhook{id: s.ids.next(), channelID: channelID, name: name, appID: s.opts.ApplicationID}
	h.token = webhookToken(h.id)
	s.webhookTokens[h.token] = true
	if avatar := str(c.body.object, "avatar"); avatar != "" {
		// Discord stores the image and exposes a hash of it.
		a := sha256.Sum256([]byte(avatar))
		h.avatar = hex.EncodeToString(a[:16])
	}
	s.webhooks[h.id] = h
	s.webhooksCreated[channelID]++
	return jsonReply(http.StatusOK, h.wire(s.opts.ApplicationID, s.botUser(), true))
}

// webhookLocked is the webhook a bot-authenticated /webhooks/{webhook_id}
// call names, or Discord's answer when it is gone or its channel denies
// Manage Webhooks.
func (s *Server) webhookLocked(c *call) (*webhook, *reply) {
	h, ok := s.webhooks[c.params["webhook_id"]]
	var rep reply
	switch {
	case !ok || h.deleted:
		rep = unknownWebhook()
	case s.deniedWebhooks[h.channelID]:
		rep = missingPermissions()
	default:
		return h, nil
	}
	return nil, &rep
}

func (s *Server) getWebhook(c *call) reply {
	h, rep := s.webhookLocked(c)
	if rep != nil {
		return *rep
	}
	return jsonReply(http.StatusOK, h.wire(s.opts.ApplicationID, s.botUser(), true))
}

func (s *Server) deleteWebhook(c *call) reply {
	h, rep := s.webhookLocked(c)
	if rep != nil {
		return *rep
	}
	h.deleted = true
	return noContent()
}

// webhookTarget is what a /webhooks/{id}/{token} path resolves to: a
// channel webhook, or the application's follow-up webhook of an
// interaction.
type webhookTarget struct {
	hook *webhook
	it   *interaction
}

func (s *Server) resolveWebhookLocked(c *call) (webhookTarget, *reply) {
	id, token := c.params["webhook_id"], c.params["webhook_token"]
	if h, ok := s.webhooks[id]; ok && !h.deleted {
		if h.token != token {
			rep := apiError(http.StatusUnauthorized, codeInvalidWebhookToken, "Invalid Webhook Token")
			return webhookTarget{}, &rep
		}
		return webhookTarget{hook: h}, nil
	}
	if id == s.opts.ApplicationID {
		if it, ok := s.interactions[token]; ok && it.acked {
			return webhookTarget{it: it}, nil
		}
	}
	rep := unknownWebhook()
	return webhookTarget{}, &rep
}

func (s *Server) getWebhookWithToken(c *call) reply {
	t, rep := s.resolveWebhookLocked(c)
	if rep != nil {
		return *rep
	}
	if t.hook == nil {
		return unknownWebhook()
	}
	out := t.hook.wire(s.opts.ApplicationID, s.botUser(), true)
	delete(out, "user")
	return jsonReply(http.StatusOK, out)
}

func (s *Server) executeWebhook(c *call) reply {
	t, rep := s.resolveWebhookLocked(c)
	if rep != nil {
		return *rep
	}
	body, files := c.body.object, c.body.files
	if rep := validateNew(body, files); rep != nil {
		return *rep
	}
	if t.it != nil {
		return s.followUpLocked(c, t.it)
	}
	h := t.hook
	author := User{ID: h.id, Username: h.name, Avatar: h.avatar, Discriminator: "0000", Bot: true}
	if has(body, "username") {
		if rep := validateUsername("username", str(body, "username")); rep != nil {
			return *rep
		}
		for _, bad := range s.refusedNames {
			if strings.Contains(strings.ToLower(str(body, "username")), strings.ToLower(bad)) {
				return formError(fieldError("USERNAME_INVALID", "Username is invalid", "username"))
			}
		}
		author.Username = str(body, "username")
	}
	channelID := h.channelID
	if thread := c.r.URL.Query().Get("thread_id"); thread != "" {
		if !isSnowflake(thread) {
			return notSnowflake("thread_id", thread)
		}
		channelID = thread
	}
	m := s.newMessageLocked(c, channelID, author, body, files)
	m.WebhookID = h.id
	m.ApplicationID = s.opts.ApplicationID
	m.AvatarURL = str(body, "avatar_url")
	// Ephemeral is meaningless outside interactions; Discord drops it.
	m.Flags &= suppressEmbedsFlag | suppressNotificationFlag
	if !truthy(c.r.URL.Query().Get("wait")) {
		rep := noContent()
		rep.notify = []Message{m.clone()}
		return rep
	}
	return messageReply(http.StatusOK, m)
}

// webhookMessageLocked finds a message the webhook (or interaction) may
// read or change; anything else is "Unknown Message", as on Discord.
func (s *Server) webhookMessageLocked(c *call) (*Message, *reply) {
	t, rep := s.resolveWebhookLocked(c)
	if rep != nil {
		return nil, rep
	}
	id := c.params["message_id"]
	var m *Message
	switch {
	case t.it != nil:
		if id == "@original" {
			id = t.it.originalID
		}
		if id == t.it.originalID || slices.Contains(t.it.followUps, id) {
			m = s.messages[id]
		}
	case id != "@original":
		if msg, ok := s.messages[id]; ok && msg.WebhookID == t.hook.id {
			m = msg
		}
	}
	if m == nil || m.Deleted {
		r := unknownMessage()
		return nil, &r
	}
	return m, nil
}

func (s *Server) patchWebhookMessage(c *call, m *Message) reply {
	if rep := s.editMessageLocked(c, m, c.body.object, c.body.files); rep != nil {
		return *rep
	}
	return messageReply(http.StatusOK, m)
}
