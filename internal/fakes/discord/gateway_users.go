package discord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// gatewayPath is the websocket endpoint; GET /gateway and /gateway/bot
// answer with a URL pointing here.
const gatewayPath = "/gateway-ws"

// defaultHeartbeatInterval is what Discord sends in Hello.
const defaultHeartbeatInterval = 41250 * time.Millisecond

// maxReplay bounds the dispatches a session keeps for Resume; a resume from
// further back is refused with Invalid Session, as Discord does once its
// buffer has moved on.
const maxReplay = 10000

// Gateway opcodes, https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway.
const (
	opDispatch                = 0
	opHeartbeat               = 1
	opIdentify                = 2
	opPresenceUpdate          = 3
	opVoiceStateUpdate        = 4
	opResume                  = 6
	opRequestGuildMembers     = 8
	opInvalidSession          = 9
	opHello                   = 10
	opHeartbeatACK            = 11
	opRequestSoundboardSounds = 31
)

// Gateway close codes.
const (
	closeUnknownError         = 4000
	closeUnknownOpcode        = 4001
	closeDecodeError          = 4002
	closeNotAuthenticated     = 4003
	closeAuthenticationFailed = 4004
	closeAlreadyAuthenticated = 4005
	closeInvalidSeq           = 4007
	closeSessionTimedOut      = 4009
	closeInvalidAPIVersion    = 4012
	closeInvalidIntents       = 4013
)

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

// Identify is one Identify (op 2) the gateway received.
type Identify struct {
	// Intents is the bitfield the client asked for.
	Intents int
	// Accepted is false when the token was refused (close 4004) or the
	// intents were invalid (close 4013).
	Accepted bool
	// SessionID is the session READY started; empty when refused.
	SessionID string
	Time      time.Time
}

// GatewayConnection is one open gateway websocket.
type GatewayConnection struct {
	// SessionID is empty until the connection identifies or resumes.
	SessionID string
	Intents   int
	// Heartbeats counts the heartbeats (op 1) received, each acknowledged
	// with op 11.
	Heartbeats int
	// Resumed is true when the session was resumed on this connection
	// rather than started with Identify.
	Resumed bool
}

// Guild is a guild the bot is in. READY lists it as unavailable and a
// GUILD_CREATE with its channels follows, as on Discord.
type Guild struct {
	ID, Name string
	// ChannelIDs are its text channels.
	ChannelIDs []string
}

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

type gatewayHub struct {
	mu         sync.Mutex
	sessions   map[string]*gatewaySession
	conns      map[*gatewayConn]bool
	identifies []Identify
	guilds     []Guild
	// changed is closed and replaced whenever a session starts, so waiters
	// need no polling.
	changed chan struct{}
}

// gatewaySession outlives its connection: a client that reconnects may
// resume it and receive what was dispatched meanwhile.
type gatewaySession struct {
	id      string
	intents int
	seq     int64
	sent    []sentFrame
	conn    *gatewayConn // nil while disconnected
}

type sentFrame struct {
	seq   int64
	frame []byte
}

type gatewayConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
	// Guarded by gatewayHub.mu.
	session      *gatewaySession
	heartbeats   int
	resumed      bool
	serverClosed bool
}

// initLocked makes the zero hub usable.
func (h *gatewayHub) initLocked() {
	if h.sessions == nil {
		h.sessions = map[string]*gatewaySession{}
		h.conns = map[*gatewayConn]bool{}
		h.changed = make(chan struct{})
	}
}

func (h *gatewayHub) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
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

// GatewayConnections returns the open gateway websockets.
func (s *Server) GatewayConnections() []GatewayConnection {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	out := make([]GatewayConnection, 0, len(s.gw.conns))
	for c := range s.gw.conns {
		gc := GatewayConnection{Heartbeats: c.heartbeats, Resumed: c.resumed}
		if c.session != nil {
			gc.SessionID, gc.Intents = c.session.id, c.session.intents
		}
		out = append(out, gc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SessionID < out[j].SessionID })
	return out
}

// Disconnect closes every gateway websocket with code and reason, as when
// Discord restarts a gateway node. Sessions stay resumable: a client that
// reconnects and resumes receives what was dispatched in between. It
// returns the number of connections closed.
func (s *Server) Disconnect(code int, reason string) int {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	n := 0
	for c := range s.gw.conns {
		if c.serverClosed {
			continue
		}
		c.serverClosed = true
		c.close(code, reason)
		n++
	}
	return n
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
		if sess.intents&intentGuilds != 0 {
			if err := s.gw.dispatchLocked(sess, "GUILD_CREATE", s.guildWire(g)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Dispatch sends event (a dispatch name such as "MESSAGE_CREATE") with data
// as its payload to every gateway session, with the next sequence number of
// each. As on Discord, a session whose intents do not cover the event does
// not receive it, and without MESSAGE_CONTENT a guild message's content,
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
	for _, sess := range s.gw.sortedSessionsLocked() {
		if need != 0 && sess.intents&need == 0 {
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

// PostUserMessage records a message by a user in its channel (it is listed
// by Messages and by GET /channels/{id}/messages) and dispatches its
// MESSAGE_CREATE, as when someone types in Discord. Mentions written as
// <@id> fill the mentions list. The message is recorded even when no
// session receives it; the error then says so. Options.OnMessage does not
// see user messages.
func (s *Server) PostUserMessage(um UserMessage) (Message, error) {
	if !isSnowflake(um.ChannelID) || !isSnowflake(um.Author.ID) || (um.GuildID != "" && !isSnowflake(um.GuildID)) {
		return Message{}, fmt.Errorf("user message: channel %q, author %q and guild %q must be snowflakes", um.ChannelID, um.Author.ID, um.GuildID)
	}
	author := um.Author
	author.Bot = false
	if author.Discriminator == "" {
		author.Discriminator = "0"
	}
	if author.Username == "" {
		author.Username = "user" + author.ID
	}
	now := time.Now().UTC()
	s.mu.Lock()
	m := &Message{ID: s.ids.next(), ChannelID: um.ChannelID, Content: um.Content, Author: author, Timestamp: now}
	var ref map[string]any
	if um.ReferencedMessageID != "" {
		m.ReferencedMessageID, m.Type = um.ReferencedMessageID, 19
		if r, ok := s.messages[um.ReferencedMessageID]; ok {
			ref = r.wire()
		}
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
	}
	return out, s.Dispatch("MESSAGE_CREATE", wire)
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
	user := ui.User
	user.Bot = false
	if user.Discriminator == "" {
		user.Discriminator = "0"
	}
	if user.Username == "" {
		user.Username = "user" + user.ID
	}
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

func (c *gatewayConn) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

// send writes a non-dispatch payload, which carries no sequence number.
func (c *gatewayConn) send(op int, d any) error {
	frame, err := json.Marshal(map[string]any{"op": op, "d": d, "s": nil, "t": nil})
	if err != nil {
		return err
	}
	return c.write(frame)
}

// close sends a close frame and drops the connection without waiting for
// the client's answer, so the reader cannot mistake that answer for the
// client closing the session.
func (c *gatewayConn) close(code int, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

func isGatewayPath(p string) bool {
	return p == gatewayPath || p == gatewayPath+"/"
}

// serveGateway upgrades the request and runs the connection until it ends.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	rec := Request{
		Method: r.Method, Path: r.URL.Path, Route: "GET " + gatewayPath, Query: r.URL.Query(),
		Header: r.Header.Clone(), Time: time.Now(), Status: http.StatusSwitchingProtocols,
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		rec.Status = http.StatusBadRequest // Upgrade has answered
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	if err != nil {
		return
	}
	s.runGateway(ws, r.URL.Query(), gatewayURLFor(r))
}

func gatewayURLFor(r *http.Request) string {
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	return scheme + "://" + r.Host + gatewayPath
}

func (s *Server) runGateway(ws *websocket.Conn, query url.Values, resumeURL string) {
	c := &gatewayConn{ws: ws}
	h := &s.gw
	h.mu.Lock()
	h.initLocked()
	h.conns[c] = true
	h.mu.Unlock()
	invalidate := false
	defer func() { h.drop(c, invalidate) }()

	// Discord answers an unsupported version at once; ETF and transport
	// compression are beyond this fake.
	if v := query.Get("v"); v != "" && v != "9" && v != "10" {
		c.close(closeInvalidAPIVersion, "Invalid API version.")
		return
	}
	if e := query.Get("encoding"); (e != "" && e != "json") || query.Get("compress") != "" {
		c.close(closeDecodeError, "This fake speaks encoding=json only, uncompressed.")
		return
	}

	interval := s.opts.HeartbeatInterval
	if err := c.send(opHello, map[string]any{"heartbeat_interval": interval.Milliseconds()}); err != nil {
		return
	}
	// Discord expects a heartbeat every interval; allow one missed beat
	// plus slack before declaring the session dead.
	grace := 2*interval + time.Second
	_ = ws.SetReadDeadline(time.Now().Add(grace))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.close(closeSessionTimedOut, "Session timed out.")
				invalidate = true
				return
			}
			var ce *websocket.CloseError
			// A client closing normally ends its session; other closes
			// (and dropped connections) leave it resumable.
			invalidate = errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway)
			return
		}
		var p struct {
			Op *int            `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(data, &p) != nil || p.Op == nil {
			c.close(closeDecodeError, "Decode error.")
			return
		}
		switch *p.Op {
		case opHeartbeat:
			_ = ws.SetReadDeadline(time.Now().Add(grace))
			h.mu.Lock()
			c.heartbeats++
			h.mu.Unlock()
			if c.send(opHeartbeatACK, nil) != nil {
				return
			}
		case opIdentify:
			if !s.identify(c, p.D, resumeURL) {
				return
			}
		case opResume:
			if !s.resume(c, p.D) {
				return
			}
		case opPresenceUpdate, opVoiceStateUpdate, opRequestGuildMembers, opRequestSoundboardSounds:
			// Accepted and ignored once authenticated.
			h.mu.Lock()
			authed := c.session != nil
			h.mu.Unlock()
			if !authed {
				c.close(closeNotAuthenticated, "Not authenticated.")
				return
			}
		default:
			c.close(closeUnknownOpcode, "Unknown opcode.")
			return
		}
	}
}

// drop forgets a finished connection; its session stays resumable unless
// invalidate is set.
func (h *gatewayHub) drop(c *gatewayConn, invalidate bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	if sess := c.session; sess != nil && sess.conn == c {
		sess.conn = nil
		if invalidate && !c.serverClosed {
			delete(h.sessions, sess.id)
		}
	}
	_ = c.ws.Close()
}

// tokenOK accepts the token as discordgo sends it ("Bot <token>") or bare.
func (s *Server) tokenOK(token string) bool {
	token = strings.TrimSpace(strings.TrimPrefix(token, "Bot "))
	return token != "" && (s.opts.Token == "" || token == s.opts.Token)
}

// identify starts a session: READY, then a GUILD_CREATE per guild. It
// reports whether the connection stays open.
func (s *Server) identify(c *gatewayConn, d json.RawMessage, resumeURL string) bool {
	var in struct {
		Token   string  `json:"token"`
		Intents *int    `json:"intents"`
		Shard   *[2]int `json:"shard"`
	}
	if err := json.Unmarshal(d, &in); err != nil {
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
	rec := Identify{Time: time.Now()}
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
	sess := &gatewaySession{id: randomHex(16), intents: rec.Intents, conn: c}
	h.sessions[sess.id] = sess
	c.session = sess
	rec.Accepted, rec.SessionID = true, sess.id
	h.identifies = append(h.identifies, rec)

	user := s.botUser().wire()
	user["verified"], user["mfa_enabled"], user["flags"] = true, false, 0
	unavailable := make([]map[string]any, 0, len(h.guilds))
	for _, g := range h.guilds {
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
		for _, g := range h.guilds {
			_ = h.dispatchLocked(sess, "GUILD_CREATE", s.guildWire(g))
		}
	}
	return true
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
	if err := json.Unmarshal(d, &in); err != nil {
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
