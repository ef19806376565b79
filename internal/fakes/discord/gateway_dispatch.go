// Gateway dispatches: Dispatch, the intents that filter events, and the MESSAGE_CONTENT rule.

package discord

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// maxReplay bounds the dispatches a session keeps for Resume; a resume from
// further back is refused with Invalid Session, as Discord does once its
// buffer has moved on.
const maxReplay = 10000

// Gateway intents the fake filters events by.
const (
	intentGuilds                 = 1 << 0
	intentGuildMembers           = 1 << 1
	intentGuildPresences         = 1 << 8
	intentGuildMessages          = 1 << 9
	intentGuildMessageReactions  = 1 << 10
	intentGuildMessageTyping     = 1 << 11
	intentDirectMessages         = 1 << 12
	intentDirectMessageReactions = 1 << 13
	intentDirectMessageTyping    = 1 << 14
	intentMessageContent         = 1 << 15
	// allIntents covers every bit Discord defines (the highest is
	// DIRECT_MESSAGE_POLLS, 1 << 25).
	allIntents = 1<<26 - 1
)

// ErrNoGatewaySession is returned by Dispatch and the helpers built on it
// when no client holds a gateway session: nothing could receive the event.
var ErrNoGatewaySession = errors.New("no gateway session: the bot has not identified, or its session ended")

// Dispatch sends event (a dispatch name such as "MESSAGE_CREATE") with data
// as its payload to every gateway session, with the next sequence number of
// each. As on Discord, a session whose intents do not cover the event does
// not receive it, a sharded session receives only the events of its guilds
// ((guild_id >> 22) % num_shards == shard_id) and, on shard 0, those
// without a guild_id (DMs), and without MESSAGE_CONTENT a guild message's content,
// embeds, attachments and components arrive empty unless the bot wrote or
// is mentioned in it. A session whose connection is down receives the event
// when it resumes. It returns ErrNoGatewaySession when there is no session.
func (s *Server) Dispatch(event string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("dispatch %s: %w", event, err)
	}
	var obj map[string]any
	_ = json.Unmarshal(raw, &obj) // nil for a payload that is not an object
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.initLocked()
	if len(s.gw.sessions) == 0 {
		return ErrNoGatewaySession
	}
	need := intentFor(event, obj)
	guildID := str(obj, "guild_id")
	for _, sess := range s.gw.sortedSessionsLocked() {
		if (need != 0 && sess.intents&need == 0) || !sess.shard.receives(guildID) {
			continue
		}
		payload := json.RawMessage(raw)
		if s.hidesContent(sess.intents, event, obj) {
			payload, err = json.Marshal(withoutContent(obj))
			if err != nil {
				return fmt.Errorf("dispatch %s: %w", event, err)
			}
		}
		if err := s.gw.dispatchLocked(sess, event, payload); err != nil {
			return err
		}
	}
	return nil
}

// intentFor is the intent a session needs to receive event, 0 for events
// every session receives (READY, INTERACTION_CREATE, unknown ones).
func intentFor(event string, d map[string]any) int {
	dm := str(d, "guild_id") == ""
	pick := func(guild, direct int) int {
		if dm {
			return direct
		}
		return guild
	}
	switch event {
	case "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE",
		"GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE",
		"CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE",
		"THREAD_CREATE", "THREAD_UPDATE", "THREAD_DELETE", "THREAD_LIST_SYNC", "THREAD_MEMBER_UPDATE",
		"STAGE_INSTANCE_CREATE", "STAGE_INSTANCE_UPDATE", "STAGE_INSTANCE_DELETE":
		return intentGuilds
	case "CHANNEL_PINS_UPDATE":
		return pick(intentGuilds, intentDirectMessages)
	case "GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE", "THREAD_MEMBERS_UPDATE":
		return intentGuildMembers
	case "PRESENCE_UPDATE":
		return intentGuildPresences
	case "MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK":
		return pick(intentGuildMessages, intentDirectMessages)
	case "MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE", "MESSAGE_REACTION_REMOVE_ALL", "MESSAGE_REACTION_REMOVE_EMOJI":
		return pick(intentGuildMessageReactions, intentDirectMessageReactions)
	case "TYPING_START":
		return pick(intentGuildMessageTyping, intentDirectMessageTyping)
	}
	return 0
}

// hidesContent applies the MESSAGE_CONTENT rule: without the intent, guild
// messages arrive empty except those the bot wrote or is mentioned in.
func (s *Server) hidesContent(intents int, event string, d map[string]any) bool {
	if intents&intentMessageContent != 0 || (event != "MESSAGE_CREATE" && event != "MESSAGE_UPDATE") {
		return false
	}
	if d == nil || str(d, "guild_id") == "" || str(obj(d, "author"), "id") == s.opts.BotUserID {
		return false
	}
	for _, u := range objects(d, "mentions") {
		if str(u, "id") == s.opts.BotUserID {
			return false
		}
	}
	return true
}

func withoutContent(d map[string]any) map[string]any {
	out := make(map[string]any, len(d))
	for k, v := range d {
		out[k] = v
	}
	out["content"] = ""
	out["embeds"] = []any{}
	out["attachments"] = []any{}
	out["components"] = []any{}
	delete(out, "poll")
	return out
}

func (h *gatewayHub) sortedSessionsLocked() []*gatewaySession {
	out := make([]*gatewaySession, 0, len(h.sessions))
	for _, sess := range h.sessions {
		out = append(out, sess)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// dispatchLocked numbers and sends one dispatch, keeping it for replay.
// Only encoding can fail it: a failed write is left to the connection's
// reader, which sees the connection end.
func (h *gatewayHub) dispatchLocked(sess *gatewaySession, event string, data any) error {
	frame, err := json.Marshal(map[string]any{"op": opDispatch, "t": event, "s": sess.seq + 1, "d": data})
	if err != nil {
		return fmt.Errorf("dispatch %s: %w", event, err)
	}
	sess.seq++
	sess.sent = append(sess.sent, sentFrame{seq: sess.seq, frame: frame})
	if len(sess.sent) > maxReplay {
		sess.sent = slices.Delete(sess.sent, 0, len(sess.sent)-maxReplay)
	}
	if sess.conn != nil {
		_ = sess.conn.write(frame)
	}
	return nil
}
