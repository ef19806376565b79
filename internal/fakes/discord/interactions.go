package discord

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// Interaction pre-registers an interaction so its responses land in a
// channel. Unregistered interactions are accepted too, with no channel.
type Interaction struct {
	ID, Token, ChannelID string
	// MessageID is the message a component (button) interaction came from
	// (Discord's interaction.message): an UPDATE_MESSAGE (7) callback
	// edits it, and a DEFERRED_UPDATE_MESSAGE (6) makes it the original
	// response, as on Discord
	// (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type).
	// Empty: those callbacks post a new message.
	MessageID string
}

type interaction struct {
	id, token, channelID string
	messageID            string
	acked                bool
	responseType         int
	originalID           string
	followUps            []string
}

// AddInteraction registers an interaction so that its original response
// and follow-ups are also listed under its channel.
func (s *Server) AddInteraction(i Interaction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it, ok := s.interactions[i.Token]; ok {
		it.channelID = i.ChannelID
		if i.MessageID != "" {
			it.messageID = i.MessageID
		}
		return
	}
	s.interactions[i.Token] = &interaction{id: i.ID, token: i.Token, channelID: i.ChannelID, messageID: i.MessageID}
	s.interactionTokens[i.Token] = true
}

// InteractionResponses returns the callback requests received for
// interactionID, rejected ones included (see Request.Status).
func (s *Server) InteractionResponses(interactionID string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Route != routeInteractionCallback {
			continue
		}
		segs := strings.Split(r.Path, "/")
		// /api/v9/interactions/{id}/{token}/callback
		if len(segs) >= 5 && segs[len(segs)-3] == interactionID {
			out = append(out, r)
		}
	}
	return out
}

// Original returns the interaction's original response message.
func (s *Server) Original(interactionToken string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.interactions[interactionToken]
	if !ok || it.originalID == "" {
		return Message{}, false
	}
	return s.messages[it.originalID].clone(), true
}

// FollowUps returns the follow-up messages sent with interactionToken.
func (s *Server) FollowUps(interactionToken string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.interactions[interactionToken]
	if !ok {
		return nil
	}
	return s.messagesLocked(it.followUps)
}

// Interaction callback types accepted over REST (1, PONG, only exists for
// HTTP-delivered interactions).
var callbackTypes = map[int]bool{4: true, 5: true, 6: true, 7: true, 8: true, 9: true, 10: true, 12: true}

func (s *Server) interactionCallback(c *call) reply {
	id, token := c.params["interaction_id"], c.params["interaction_token"]
	it, ok := s.interactions[token]
	if ok && it.id != id {
		return apiError(http.StatusNotFound, codeUnknownInteraction, "Unknown interaction")
	}
	if !ok {
		for _, other := range s.interactions {
			if other.id == id {
				return apiError(http.StatusNotFound, codeUnknownInteraction, "Unknown interaction")
			}
		}
		it = &interaction{id: id, token: token}
		s.interactionTokens[token] = true
	}
	if it.acked {
		return apiError(http.StatusBadRequest, codeAlreadyAcknowledged, "Interaction has already been acknowledged.")
	}

	body := c.body.object
	typ := num(body, "type")
	if !callbackTypes[typ] {
		return formError(fieldError("BASE_TYPE_CHOICES", "Value must be one of {4, 5, 6, 7, 8, 9, 10, 12}.", "type"))
	}
	data := obj(body, "data")
	if data == nil {
		data = map[string]any{}
	}
	switch typ {
	case 4:
		if rep := validateNew(data, c.body.files); rep != nil {
			return *rep
		}
	case 7:
		if rep := validateContent(data, c.body.files); rep != nil {
			return *rep
		}
	case 8:
		if len(list(data, "choices")) > 25 {
			return formError(maxLength(25, "data", "choices"))
		}
	case 9:
		if rep := validateModal(data); rep != nil {
			return *rep
		}
	}

	it.acked = true
	it.responseType = typ
	s.interactions[token] = it

	var notify []Message
	post := typ
	if m, ok := s.messages[it.messageID]; ok && (typ == 6 || typ == 7) {
		// The component's own message: updated in place (only the
		// fields sent change), or left as it is until @original is edited.
		it.originalID = m.ID
		if typ == 7 {
			if rep := s.editMessageLocked(c, m, data, c.body.files); rep != nil {
				it.acked = false
				return *rep
			}
			notify = append(notify, m.clone())
		}
		post = 0 // nothing new is posted
	}
	switch post {
	case 4, 5, 6, 7:
		listed := typ == 4 || typ == 5
		channel := ""
		if listed {
			channel = it.channelID
		}
		msgData := data
		if typ == 5 || typ == 6 {
			// Deferred responses carry only flags; content comes later.
			msgData = map[string]any{"flags": data["flags"]}
		}
		m := s.newMessageLocked(c, channel, s.botUser(), msgData, c.body.files)
		m.ChannelID = it.channelID
		m.hidden = !listed
		m.WebhookID = s.opts.ApplicationID
		m.ApplicationID = s.opts.ApplicationID
		m.Flags &= ephemeralFlag | suppressEmbedsFlag | suppressNotificationFlag
		if typ == 5 {
			m.Flags |= loadingFlag
		}
		it.originalID = m.ID
		notify = append(notify, m.clone())
	}

	if truthy(c.r.URL.Query().Get("with_response")) {
		resource := map[string]any{"type": typ}
		if it.originalID != "" {
			resource["message"] = s.messages[it.originalID].wire()
		}
		rep := jsonReply(http.StatusOK, map[string]any{
			"interaction": map[string]any{
				"id":                         id,
				"type":                       2,
				"response_message_id":        nilIfEmpty(it.originalID),
				"response_message_loading":   typ == 5,
				"response_message_ephemeral": data["flags"] != nil && num(data, "flags")&ephemeralFlag != 0,
			},
			"resource": resource,
		})
		rep.notify = notify
		return rep
	}
	rep := noContent()
	rep.notify = notify
	return rep
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// validateModal enforces the documented modal limits: a custom_id, a
// title of at most 45 characters, and one to five components.
func validateModal(data map[string]any) *reply {
	errs := map[string]any{}
	if n := utf8.RuneCountInString(str(data, "custom_id")); n < 1 || n > 100 {
		errs["custom_id"] = badLength(1, 100)
	}
	if n := utf8.RuneCountInString(str(data, "title")); n < 1 || n > 45 {
		errs["title"] = badLength(1, 45)
	}
	if n := len(list(data, "components")); n < 1 || n > 5 {
		errs["components"] = badLength(1, 5)
	}
	if len(errs) == 0 {
		return nil
	}
	rep := formError(map[string]any{"data": errs})
	return &rep
}

func (s *Server) followUpLocked(c *call, it *interaction) reply {
	body := c.body.object
	m := s.newMessageLocked(c, it.channelID, s.botUser(), body, c.body.files)
	m.WebhookID = s.opts.ApplicationID
	m.ApplicationID = s.opts.ApplicationID
	// Follow-ups keep ephemeral; username and avatar_url overrides are not
	// supported for them and are ignored, as on Discord.
	m.Flags &= ephemeralFlag | suppressEmbedsFlag | suppressNotificationFlag
	it.followUps = append(it.followUps, m.ID)
	return messageReply(http.StatusOK, m)
}
