package discord

import (
	"net/http"
	"strings"
)

type route struct {
	method  string
	pattern string
	// auth is true for routes that need the bot token; webhook-token and
	// interaction routes authenticate by the token in the path instead.
	auth   bool
	handle func(s *Server, c *call) reply
}

const routeInteractionCallback = "POST /interactions/{interaction_id}/{interaction_token}/callback"

var routes = []route{
	{"GET", "/gateway", false, (*Server).gateway},
	{"GET", "/gateway/bot", true, (*Server).gatewayBot},
	{"GET", "/users/@me", true, (*Server).me},
	{"POST", "/users/@me/channels", true, (*Server).createDM},
	{"DELETE", "/users/@me/guilds/{guild_id}", true, (*Server).leaveGuild},

	{"GET", "/guilds/{guild_id}", true, (*Server).getGuild},
	{"GET", "/guilds/{guild_id}/members/{user_id}", true, (*Server).getGuildMember},
	{"GET", "/guilds/{guild_id}/roles", true, (*Server).getGuildRoles},
	{"GET", "/guilds/{guild_id}/channels", true, (*Server).getGuildChannels},
	{"GET", "/channels/{channel_id}", true, (*Server).getChannel},
	{"GET", "/channels/{channel_id}/thread-members/{user_id}", true, (*Server).getThreadMember},
	{"GET", "/channels/{channel_id}/messages", true, (*Server).listChannelMessages},
	{"POST", "/channels/{channel_id}/messages", true, (*Server).postChannelMessage},
	{"GET", "/channels/{channel_id}/messages/{message_id}", true, withMessage((*Server).channelMessageLocked, getMessage)},
	{"PATCH", "/channels/{channel_id}/messages/{message_id}", true, withMessage((*Server).channelMessageLocked, (*Server).patchChannelMessage)},
	{"DELETE", "/channels/{channel_id}/messages/{message_id}", true, withMessage((*Server).channelMessageLocked, deleteMessage)},
	{"PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", true, withMessage((*Server).channelMessageLocked, (*Server).putReaction)},
	{"DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", true, withMessage((*Server).channelMessageLocked, (*Server).deleteReaction)},
	{"POST", "/channels/{channel_id}/typing", true, (*Server).typing},
	{"GET", "/channels/{channel_id}/webhooks", true, (*Server).listWebhooks},
	{"POST", "/channels/{channel_id}/webhooks", true, (*Server).createWebhook},

	{"GET", "/webhooks/{webhook_id}", true, (*Server).getWebhook},
	{"DELETE", "/webhooks/{webhook_id}", true, (*Server).deleteWebhook},
	{"GET", "/webhooks/{webhook_id}/{webhook_token}", false, (*Server).getWebhookWithToken},
	{"POST", "/webhooks/{webhook_id}/{webhook_token}", false, (*Server).executeWebhook},
	{"GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", false, withMessage((*Server).webhookMessageLocked, getMessage)},
	{"PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", false, withMessage((*Server).webhookMessageLocked, (*Server).patchWebhookMessage)},
	{"DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", false, withMessage((*Server).webhookMessageLocked, deleteMessage)},

	{"POST", "/interactions/{interaction_id}/{interaction_token}/callback", false, (*Server).interactionCallback},

	{"GET", "/applications/{application_id}/commands", true, (*Server).listCommands},
	{"PUT", "/applications/{application_id}/commands", true, (*Server).overwriteCommands},
	{"POST", "/applications/{application_id}/commands", true, (*Server).createCommand},
	{"DELETE", "/applications/{application_id}/commands/{command_id}", true, (*Server).deleteCommand},
	{"GET", "/applications/{application_id}/guilds/{guild_id}/commands", true, (*Server).listCommands},
	{"PUT", "/applications/{application_id}/guilds/{guild_id}/commands", true, (*Server).overwriteCommands},
	{"POST", "/applications/{application_id}/guilds/{guild_id}/commands", true, (*Server).createCommand},
	{"DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", true, (*Server).deleteCommand},
}

// match finds the route for a path below the API prefix. methodMismatch
// reports a path that exists under another method, which Discord answers
// with 405 rather than 404.
func match(method, path string) (rt *route, params map[string]string, methodMismatch bool) {
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	for i := range routes {
		p, ok := matchPattern(routes[i].pattern, segs)
		if !ok {
			continue
		}
		if routes[i].method != method {
			methodMismatch = true
			continue
		}
		return &routes[i], p, false
	}
	return nil, nil, methodMismatch
}

func matchPattern(pattern string, segs []string) (map[string]string, bool) {
	want := strings.Split(pattern, "/")
	if len(want) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, w := range want {
		if strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") {
			if segs[i] == "" {
				return nil, false
			}
			params[w[1:len(w)-1]] = segs[i]
			continue
		}
		if w != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func (s *Server) gateway(c *call) reply {
	return jsonReply(http.StatusOK, map[string]any{"url": gatewayURLFor(c.r)})
}

func (s *Server) me(c *call) reply {
	u := s.botUser().wire()
	u["verified"] = true
	u["mfa_enabled"] = false
	u["flags"] = 0
	u["public_flags"] = 0
	return jsonReply(http.StatusOK, u)
}

func (s *Server) createDM(c *call) reply {
	recipient := str(c.body.object, "recipient_id")
	if !isSnowflake(recipient) {
		return notSnowflake("recipient_id", recipient)
	}
	id, ok := s.dmChannels[recipient]
	if !ok {
		id = s.ids.next()
		s.dmChannels[recipient] = id
		s.dmUsers[id] = recipient
	}
	var last any
	if ids := s.channelMessages[id]; len(ids) > 0 {
		last = ids[len(ids)-1]
	}
	return jsonReply(http.StatusOK, map[string]any{
		"id":              id,
		"type":            1,
		"flags":           0,
		"last_message_id": last,
		"recipients": []map[string]any{
			User{ID: recipient, Username: "user" + recipient, Discriminator: "0"}.wire(),
		},
	})
}
