// Gateway sessions: Identify and READY, Resume with replay, and the guilds READY announces.

package discord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Identify is one Identify (op 2) the gateway received.
type Identify struct {
	// Intents is the bitfield the client asked for.
	Intents int
	// Accepted is false when the token was refused (close 4004) or the
	// intents were invalid (close 4013).
	Accepted bool
	// SessionID is the session READY started; empty when refused.
	SessionID string
	// Shard is the [shard_id, num_shards] the client sent; nil when it
	// sent none (shard 0 of 1).
	Shard *[2]int
	Time  time.Time
}

// Guild is a guild the bot is in. READY lists it as unavailable and a
// GUILD_CREATE with its channels follows, as on Discord.
type Guild struct {
	ID, Name string
	// ChannelIDs are its text channels.
	ChannelIDs []string
}

// gatewaySession outlives its connection: a client that reconnects may
// resume it and receive what was dispatched meanwhile.
type gatewaySession struct {
	id      string
	intents int
	// shard decides which guilds' events the session receives.
	shard shard
	seq   int64
	sent  []sentFrame
	conn  *gatewayConn // nil while disconnected
}

type sentFrame struct {
	seq   int64
	frame []byte
}

// Identified returns every Identify received, refused ones included, in
// order.
func (s *Server) Identified() []Identify {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	return slices.Clone(s.gw.identifies)
}

// WaitIdentified waits until a client has identified successfully (READY
// has been sent) and returns the latest accepted Identify.
func (s *Server) WaitIdentified(ctx context.Context) (Identify, error) {
	for {
		s.gw.mu.Lock()
		s.gw.initLocked()
		for i := len(s.gw.identifies) - 1; i >= 0; i-- {
			if id := s.gw.identifies[i]; id.Accepted {
				s.gw.mu.Unlock()
				return id, nil
			}
		}
		changed := s.gw.changed
		s.gw.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Identify{}, fmt.Errorf("wait for a gateway identify: %w", ctx.Err())
		}
	}
}

// AddGuild puts the bot in a guild: later READYs list it, and sessions
// already running receive its GUILD_CREATE, as when the bot joins a guild.
func (s *Server) AddGuild(g Guild) error {
	if !isSnowflake(g.ID) {
		return fmt.Errorf("guild id %q is not a snowflake", g.ID)
	}
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.initLocked()
	s.gw.guilds = append(s.gw.guilds, g)
	for _, sess := range s.gw.sortedSessionsLocked() {
		if sess.intents&intentGuilds != 0 && sess.shard.receives(g.ID) {
			if err := s.gw.dispatchLocked(sess, "GUILD_CREATE", s.guildWire(g)); err != nil {
				return err
			}
		}
	}
	return nil
}

// tokenOK accepts the token as discordgo sends it ("Bot <token>") or bare.
func (s *Server) tokenOK(token string) bool {
	token = strings.TrimSpace(strings.TrimPrefix(token, "Bot "))
	return token != "" && (s.opts.Token == "" || token == s.opts.Token)
}

// authenticate decodes an Identify or Resume payload d into in and runs
// start under the hub lock, unless d does not decode (close 4002) or the
// connection already has a session (close 4005). It reports whether the
// connection stays open.
func (s *Server) authenticate(c *gatewayConn, d json.RawMessage, in any, start func(h *gatewayHub) bool) bool {
	if err := json.Unmarshal(d, in); err != nil {
		c.close(closeDecodeError, "Decode error.")
		return false
	}
	h := &s.gw
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.session != nil {
		c.close(closeAlreadyAuthenticated, "Already authenticated.")
		return false
	}
	return start(h)
}

// identify starts a session: READY, then a GUILD_CREATE per guild. It
// reports whether the connection stays open.
func (s *Server) identify(c *gatewayConn, d json.RawMessage, resumeURL string) bool {
	var in struct {
		Token   string  `json:"token"`
		Intents *int    `json:"intents"`
		Shard   *[2]int `json:"shard"`
	}
	return s.authenticate(c, d, &in, func(h *gatewayHub) bool {
		rec := Identify{Time: time.Now(), Shard: in.Shard}
		if in.Intents != nil {
			rec.Intents = *in.Intents
		}
		defer h.notifyLocked()
		if !s.tokenOK(in.Token) {
			h.identifies = append(h.identifies, rec)
			c.close(closeAuthenticationFailed, "Authentication failed.")
			return false
		}
		if in.Intents == nil || *in.Intents < 0 || *in.Intents&^allIntents != 0 {
			h.identifies = append(h.identifies, rec)
			c.close(closeInvalidIntents, "Invalid intent(s).")
			return false
		}
		sh := shardOf(in.Shard)
		if h.refuseShardLocked(c, sh) {
			h.identifies = append(h.identifies, rec)
			return false
		}
		sess := &gatewaySession{id: randomHex(16), intents: rec.Intents, shard: sh, conn: c}
		h.sessions[sess.id] = sess
		c.session = sess
		rec.Accepted, rec.SessionID = true, sess.id
		h.identifies = append(h.identifies, rec)

		user := s.botUser().wire()
		user["verified"], user["mfa_enabled"], user["flags"] = true, false, 0
		guilds := h.shardGuildsLocked(sh)
		unavailable := make([]map[string]any, 0, len(guilds))
		for _, g := range guilds {
			unavailable = append(unavailable, map[string]any{"id": g.ID, "unavailable": true})
		}
		ready := map[string]any{
			"v": 10, "user": user, "guilds": unavailable, "session_id": sess.id,
			"resume_gateway_url": resumeURL, "private_channels": []any{},
			"application": map[string]any{"id": s.opts.ApplicationID, "flags": 0},
		}
		if in.Shard != nil {
			ready["shard"] = in.Shard
		}
		// READY and GUILD_CREATE are maps of strings and numbers: they encode.
		_ = h.dispatchLocked(sess, "READY", ready)
		if sess.intents&intentGuilds != 0 {
			for _, g := range guilds {
				_ = h.dispatchLocked(sess, "GUILD_CREATE", s.guildWire(g))
			}
		}
		return true
	})
}

// resume reattaches a session: the dispatches after the client's sequence
// number, then RESUMED. An unknown or ended session gets Invalid Session
// (not resumable), after which the client identifies on the same
// connection.
func (s *Server) resume(c *gatewayConn, d json.RawMessage) bool {
	var in struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       *int64 `json:"seq"`
	}
	return s.authenticate(c, d, &in, func(h *gatewayHub) bool {
		if !s.tokenOK(in.Token) {
			c.close(closeAuthenticationFailed, "Authentication failed.")
			return false
		}
		var seq int64
		if in.Seq != nil {
			seq = *in.Seq
		}
		sess, ok := h.sessions[in.SessionID]
		if !ok || (len(sess.sent) > 0 && seq < sess.sent[0].seq-1) {
			return c.send(opInvalidSession, false) == nil
		}
		if seq > sess.seq {
			delete(h.sessions, sess.id)
			c.close(closeInvalidSeq, "Invalid seq.")
			return false
		}
		if old := sess.conn; old != nil && old != c {
			old.serverClosed = true
			old.close(closeUnknownError, "Session resumed elsewhere.")
		}
		sess.conn, c.session, c.resumed = c, sess, true
		for _, f := range sess.sent {
			if f.seq > seq {
				_ = c.write(f.frame)
			}
		}
		_ = h.dispatchLocked(sess, "RESUMED", map[string]any{})
		h.notifyLocked()
		return true
	})
}

func (s *Server) guildWire(g Guild) map[string]any {
	now := time.Now().UTC().Format(timestampLayout)
	channels := make([]map[string]any, 0, len(g.ChannelIDs))
	for i, id := range g.ChannelIDs {
		channels = append(channels, map[string]any{
			"id": id, "type": 0, "guild_id": g.ID, "name": fmt.Sprintf("channel-%d", i+1), "position": i,
			"permission_overwrites": []any{}, "nsfw": false,
		})
	}
	name := g.Name
	if name == "" {
		name = "guild" + g.ID
	}
	return map[string]any{
		"id": g.ID, "name": name, "icon": nil, "unavailable": false, "large": false,
		"joined_at": now, "member_count": 1, "preferred_locale": "en-US", "features": []any{},
		"channels": channels, "threads": []any{}, "roles": []any{}, "emojis": []any{}, "stickers": []any{},
		"members": []any{map[string]any{
			"user": s.botUser().wire(), "roles": []any{}, "joined_at": now, "deaf": false, "mute": false, "flags": 0,
		}},
		"voice_states": []any{}, "presences": []any{}, "stage_instances": []any{}, "guild_scheduled_events": []any{},
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
