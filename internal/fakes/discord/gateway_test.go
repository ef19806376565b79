package discord_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/tzurot/tzurot/internal/discordhttp"
	"github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/testwait"
)

const (
	guildID   = "5500000000000000005"
	botIntent = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages | discordgo.IntentMessageContent
)

// events collects what a session's handlers saw. SyncEvents makes handlers
// run in the reading goroutine, so arrival order is dispatch order.
type events struct {
	ch chan any
}

// gatewaySession opens a real discordgo session on the fake the way the
// product builds it (discordhttp.Session), with intents and then configure
// applied, and records every dispatch. The session is closed before the
// server.
func gatewaySession(t *testing.T, fake *discord.Server, token string, intents discordgo.Intent, configure ...func(*discordgo.Session)) (*discordgo.Session, *events, error) {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	s, err := discordhttp.Session(token, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s.SyncEvents = true
	s.Identify.Intents = intents
	for _, c := range configure {
		c(s)
	}
	ev := &events{ch: make(chan any, 100)}
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		if e.Operation == 0 {
			ev.ch <- e
		}
	})
	err = s.Open()
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, ev, err
}

// openGateway is gatewaySession for tests whose session must open.
func openGateway(t *testing.T, fake *discord.Server, token string, intents discordgo.Intent, configure ...func(*discordgo.Session)) (*discordgo.Session, *events) {
	t.Helper()
	s, ev, err := gatewaySession(t, fake, token, intents, configure...)
	if err != nil {
		t.Fatal(err)
	}
	return s, ev
}

// next returns the next dispatch, decoded by discordgo.
func (ev *events) next(t *testing.T) *discordgo.Event {
	t.Helper()
	select {
	case e := <-ev.ch:
		return e.(*discordgo.Event)
	case <-time.After(10 * time.Second):
		t.Fatal("no gateway event in 10 s")
		return nil
	}
}

func TestGatewayOpenReadyAndMessages(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{Token: "test-token"})
	if err := fake.AddGuild(discord.Guild{ID: guildID, Name: "Tzurot HQ", ChannelIDs: []string{chanID}}); err != nil {
		t.Fatal(err)
	}
	s, ev := openGateway(t, fake, "test-token", botIntent)
	ids := fake.Identified()
	if len(ids) != 1 || !ids[0].Accepted || ids[0].Intents != int(botIntent) || ids[0].SessionID == "" {
		t.Fatalf("identified = %+v", ids)
	}
	waited, err := fake.WaitIdentified(context.Background())
	if err != nil || waited != ids[0] {
		t.Errorf("WaitIdentified = %+v, %v", waited, err)
	}

	// READY and GUILD_CREATE are decoded afresh: discordgo's state keeps
	// and updates the structs it hands to handlers.
	ready := ev.next(t)
	if ready.Type != "READY" {
		t.Fatalf("first dispatch %s", ready.Type)
	}
	r := decode[discordgo.Ready](t, ready)
	if r.User.ID != botID || !r.User.Bot || r.SessionID != ids[0].SessionID || r.Application == nil || r.Application.ID != botID ||
		len(r.Guilds) != 1 || r.Guilds[0].ID != guildID || !r.Guilds[0].Unavailable {
		t.Errorf("READY = %+v user=%+v guilds=%+v", r, r.User, r.Guilds)
	}
	var raw map[string]any
	_ = json.Unmarshal(ready.RawData, &raw)
	if u, _ := raw["resume_gateway_url"].(string); !strings.HasPrefix(u, "ws://") || !strings.HasSuffix(u, "/gateway-ws") {
		t.Errorf("resume_gateway_url = %v", raw["resume_gateway_url"])
	}

	gc := ev.next(t)
	g := decode[discordgo.Guild](t, gc)
	if gc.Type != "GUILD_CREATE" || g.ID != guildID || g.Name != "Tzurot HQ" || len(g.Channels) != 1 || g.Channels[0].ID != chanID || g.Channels[0].GuildID != guildID {
		t.Fatalf("GUILD_CREATE = %s %s", gc.Type, gc.RawData)
	}
	if st, err := s.State.Guild(guildID); err != nil || st.Name != "Tzurot HQ" {
		t.Errorf("state guild = %+v, %v", st, err)
	}

	posted, err := fake.PostUserMessage(discord.UserMessage{
		ChannelID: chanID, GuildID: guildID, Author: discord.User{ID: userID, Username: "alice"},
		Nick: "Al", Content: "hello <@" + botID + ">",
	})
	if err != nil {
		t.Fatal(err)
	}
	mc := ev.next(t)
	m, ok := mc.Struct.(*discordgo.MessageCreate)
	if !ok || m.ID != posted.ID || m.ChannelID != chanID || m.GuildID != guildID || m.Content != "hello <@"+botID+">" ||
		m.Author.ID != userID || m.Author.Bot || m.Member == nil || m.Member.Nick != "Al" ||
		len(m.Mentions) != 1 || m.Mentions[0].ID != botID {
		t.Fatalf("MESSAGE_CREATE = %s %+v", mc.Type, mc.Struct)
	}
	if seqs := []int64{ready.Sequence, gc.Sequence, mc.Sequence}; seqs[0] != 1 || seqs[1] != 2 || seqs[2] != 3 {
		t.Errorf("sequence numbers %v, want 1 2 3", seqs)
	}

	// A reply carries the message it answers, and the channel lists both.
	reply, err := fake.PostUserMessage(discord.UserMessage{
		ChannelID: chanID, GuildID: guildID, Author: discord.User{ID: userID}, Content: "and another", ReferencedMessageID: posted.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	m = ev.next(t).Struct.(*discordgo.MessageCreate)
	if m.Type != discordgo.MessageTypeReply || m.ReferencedMessage == nil || m.ReferencedMessage.Content != posted.Content ||
		m.MessageReference == nil || m.MessageReference.MessageID != posted.ID {
		t.Errorf("reply = %+v ref=%+v", m.Message, m.ReferencedMessage)
	}
	if got := fake.Messages(chanID); len(got) != 2 || got[0].ID != posted.ID || got[1].ID != reply.ID {
		t.Errorf("channel lists %+v", got)
	}
	history, err := s.ChannelMessages(chanID, 10, "", "", "")
	if err != nil || len(history) != 2 || history[1].Author.ID != userID {
		t.Errorf("REST history = %+v, %v", history, err)
	}

	// Closing normally ends the session: nothing is left to dispatch to.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the connection to end", func() bool { return len(fake.GatewayConnections()) == 0 })
	if err := fake.Dispatch("TYPING_START", map[string]any{"channel_id": chanID}); !errors.Is(err, discord.ErrNoGatewaySession) {
		t.Errorf("dispatch after close: %v", err)
	}
}

func TestGatewayHeartbeatsAreAcknowledged(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{HeartbeatInterval: 200 * time.Millisecond})
	s, _ := openGateway(t, fake, "any-token", botIntent)
	opened := time.Now().UTC()
	// discordgo reconnects when no ACK came for 5 intervals (1 s here), so
	// eight heartbeats on the first connection mean the ACKs arrive.
	testwait.Until(t, "eight heartbeats", func() bool {
		c := fake.GatewayConnections()
		return len(c) == 1 && c[0].Heartbeats >= 8
	})
	if c := fake.GatewayConnections(); len(c) != 1 || c[0].Resumed {
		t.Errorf("connections = %+v: the client reconnected, as it does when ACKs stop", c)
	}
	s.RLock()
	ack := s.LastHeartbeatAck
	s.RUnlock()
	if !ack.After(opened) {
		t.Errorf("last ACK %v, opened %v: heartbeats are not acknowledged", ack, opened)
	}
}

func TestGatewayRefusesAWrongToken(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{Token: "right-token"})
	_, _, err := gatewaySession(t, fake, "wrong-token", botIntent)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4004 || ce.Text != "Authentication failed." {
		t.Fatalf("Open = %v, want close 4004", err)
	}
	if ids := fake.Identified(); len(ids) != 1 || ids[0].Accepted || ids[0].SessionID != "" {
		t.Errorf("identified = %+v", ids)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := fake.WaitIdentified(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitIdentified = %v", err)
	}
	testwait.Until(t, "the refused connection to end", func() bool { return len(fake.GatewayConnections()) == 0 })
}

// Intents decide what a session receives, as on Discord; a bot that forgot
// MESSAGE_CONTENT sees guild messages without their text.
func TestGatewayHonoursIntents(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{})
	_, ev := openGateway(t, fake, "t", discordgo.IntentsGuildMessages)
	if e := ev.next(t); e.Type != "READY" {
		t.Fatalf("first dispatch %s", e.Type)
	}
	alice := discord.User{ID: userID}
	post := func(guild, content string) {
		t.Helper()
		if _, err := fake.PostUserMessage(discord.UserMessage{ChannelID: chanID, GuildID: guild, Author: alice, Content: content}); err != nil {
			t.Fatal(err)
		}
	}
	post("", "a DM: needs DIRECT_MESSAGES")
	post(guildID, "@kerach hi")
	post(guildID, "<@"+botID+"> hi")
	if err := fake.AddGuild(discord.Guild{ID: guildID}); err != nil { // GUILD_CREATE needs GUILDS
		t.Fatal(err)
	}
	if err := fake.Dispatch("TYPING_START", map[string]any{"channel_id": chanID, "guild_id": guildID, "user_id": userID}); err != nil {
		t.Fatal(err)
	}
	if err := fake.Dispatch("INTERACTION_CREATE", map[string]any{"id": "1", "type": 1}); err != nil { // needs no intent
		t.Fatal(err)
	}
	var got []string
	for range 3 {
		e := ev.next(t)
		desc := e.Type
		if m, ok := e.Struct.(*discordgo.MessageCreate); ok {
			desc += fmt.Sprintf(" %q", m.Content)
		}
		got = append(got, desc)
	}
	want := []string{`MESSAGE_CREATE ""`, `MESSAGE_CREATE "<@` + botID + `> hi"`, "INTERACTION_CREATE"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("received\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A dropped connection is resumed: what was dispatched meanwhile arrives,
// then RESUMED, with no second Identify.
func TestGatewayResumesAfterADisconnect(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{})
	s, ev := openGateway(t, fake, "t", botIntent)
	resumed := make(chan struct{}, 1)
	s.AddHandler(func(*discordgo.Session, *discordgo.Resumed) { resumed <- struct{}{} })
	if e := ev.next(t); e.Type != "READY" {
		t.Fatalf("first dispatch %s", e.Type)
	}
	// discordgo v0.29.0 races when the connection drops before its first
	// heartbeat: the late heartbeat goroutine closes the reconnected
	// session and it never settles. Real drops come later than that.
	testwait.Until(t, "the first heartbeat", func() bool {
		c := fake.GatewayConnections()
		return len(c) == 1 && c[0].Heartbeats > 0
	})
	if n := fake.Disconnect(4000, "restarting"); n != 1 {
		t.Fatalf("disconnected %d connections", n)
	}
	missed, err := fake.PostUserMessage(discord.UserMessage{ChannelID: chanID, GuildID: guildID, Author: discord.User{ID: userID}, Content: "while you were away"})
	if err != nil {
		t.Fatal(err)
	}
	e := ev.next(t)
	if m, ok := e.Struct.(*discordgo.MessageCreate); !ok || m.ID != missed.ID || e.Sequence != 2 {
		t.Fatalf("after reconnecting got %s #%d %+v", e.Type, e.Sequence, e.Struct)
	}
	if e := ev.next(t); e.Type != "RESUMED" || e.Sequence != 3 {
		t.Fatalf("then %s #%d, want RESUMED #3", e.Type, e.Sequence)
	}
	select {
	case <-resumed:
	case <-time.After(5 * time.Second):
		t.Fatal("no Resumed handler call")
	}
	if c := fake.GatewayConnections(); len(c) != 1 || !c[0].Resumed || c[0].SessionID != fake.Identified()[0].SessionID {
		t.Errorf("connections = %+v", c)
	}
	if n := len(fake.Identified()); n != 1 {
		t.Errorf("%d identifies, want the session resumed", n)
	}
}

func TestGatewayInteractionCreate(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{})
	s, ev := openGateway(t, fake, "t", botIntent)
	ev.next(t) // READY
	in, err := fake.StartInteraction(discord.UserInteraction{
		ChannelID: chanID, GuildID: guildID, User: discord.User{ID: userID, Username: "alice"},
		Data: discordgo.ApplicationCommandInteractionData{ID: "6600000000000000006", Name: "usage", CommandType: discordgo.ChatApplicationCommand},
	})
	if err != nil {
		t.Fatal(err)
	}
	ic, ok := ev.next(t).Struct.(*discordgo.InteractionCreate)
	if !ok || ic.ID != in.ID || ic.Token != in.Token || ic.Type != discordgo.InteractionApplicationCommand ||
		ic.ApplicationCommandData().Name != "usage" || ic.Member == nil || ic.Member.User.ID != userID || ic.GuildID != guildID || ic.AppID != botID {
		t.Fatalf("INTERACTION_CREATE = %+v", ic)
	}
	if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "7 requests", Flags: discordgo.MessageFlagsEphemeral},
	}); err != nil {
		t.Fatal(err)
	}
	if r := fake.InteractionResponses(in.ID); len(r) != 1 || r[0].Status != 204 {
		t.Errorf("responses = %+v", r)
	}
	if m, ok := fake.Original(in.Token); !ok || m.Content != "7 requests" || !m.Ephemeral() || m.ChannelID != chanID {
		t.Errorf("original = %+v %v", m, ok)
	}
}

func TestGatewayWithoutSession(t *testing.T) {
	t.Parallel()
	fake := discord.New(discord.Options{})
	if err := fake.Dispatch("MESSAGE_CREATE", map[string]any{}); !errors.Is(err, discord.ErrNoGatewaySession) {
		t.Errorf("Dispatch = %v", err)
	}
	m, err := fake.PostUserMessage(discord.UserMessage{ChannelID: chanID, Author: discord.User{ID: userID}, Content: "anyone?"})
	if !errors.Is(err, discord.ErrNoGatewaySession) || len(fake.Messages(chanID)) != 1 || fake.Messages(chanID)[0].ID != m.ID {
		t.Errorf("PostUserMessage = %+v, %v; the message must be recorded anyway", m, err)
	}
	if _, err := fake.PostUserMessage(discord.UserMessage{ChannelID: "general", Author: discord.User{ID: userID}}); err == nil {
		t.Error("a channel that is not a snowflake was accepted")
	}
}

// The protocol below discordgo, frame by frame: each case sends payloads
// after Hello and lists what comes back ("op N", a dispatch name, or
// "close N").
func TestGatewayProtocol(t *testing.T) {
	t.Parallel()
	identify := `{"op":2,"d":{"token":"Bot t","intents":33281,"properties":{}}}`
	for _, tc := range []struct {
		name     string
		query    string
		interval time.Duration
		send     []string
		want     []string
	}{
		{name: "heartbeat is acknowledged", send: []string{`{"op":1,"d":null}`, `{"op":1,"d":0}`}, want: []string{"op 11", "op 11"}},
		{name: "identify starts a session", send: []string{identify}, want: []string{"READY #1"}},
		{name: "identify twice", send: []string{identify, identify}, want: []string{"READY #1", "close 4005"}},
		{name: "identify without intents", send: []string{`{"op":2,"d":{"token":"t"}}`}, want: []string{"close 4013"}},
		{name: "identify with unknown intents", send: []string{`{"op":2,"d":{"token":"t","intents":1073741824}}`}, want: []string{"close 4013"}},
		{name: "empty token", send: []string{`{"op":2,"d":{"token":"","intents":1}}`}, want: []string{"close 4004"}},
		{name: "resume an unknown session", send: []string{`{"op":6,"d":{"token":"t","session_id":"gone","seq":3}}`, identify}, want: []string{"op 9 false", "READY #1"}},
		{name: "presence before identify", send: []string{`{"op":3,"d":{}}`}, want: []string{"close 4003"}},
		{name: "unknown opcode", send: []string{`{"op":42,"d":null}`}, want: []string{"close 4001"}},
		{name: "not json", send: []string{`hello`}, want: []string{"close 4002"}},
		{name: "unsupported version", query: "?v=6&encoding=json", want: []string{"close 4012"}},
		{name: "etf encoding", query: "?v=10&encoding=etf", want: []string{"close 4002"}},
		{name: "shard 1 of 2", send: []string{`{"op":2,"d":{"token":"t","intents":1,"shard":[1,2]}}`}, want: []string{"READY #1"}},
		{name: "shard id not below the count", send: []string{`{"op":2,"d":{"token":"t","intents":1,"shard":[2,2]}}`}, want: []string{"close 4010"}},
		{name: "no shards", send: []string{`{"op":2,"d":{"token":"t","intents":1,"shard":[0,0]}}`}, want: []string{"close 4010"}},
		{name: "negative shard", send: []string{`{"op":2,"d":{"token":"t","intents":1,"shard":[-1,2]}}`}, want: []string{"close 4010"}},
		{name: "silent client times out", interval: 50 * time.Millisecond, want: []string{"close 4009"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := discord.New(discord.Options{HeartbeatInterval: tc.interval})
			srv := httptest.NewServer(fake)
			t.Cleanup(srv.Close)
			query := tc.query
			if query == "" {
				query = "?v=10&encoding=json"
			}
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/gateway-ws/"+query, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			var hello struct {
				Op int `json:"op"`
				D  struct {
					HeartbeatInterval int `json:"heartbeat_interval"`
				} `json:"d"`
			}
			if tc.query == "" {
				if err := ws.ReadJSON(&hello); err != nil || hello.Op != 10 || hello.D.HeartbeatInterval <= 0 {
					t.Fatalf("hello = %+v, %v", hello, err)
				}
				wantInterval := 41250
				if tc.interval > 0 {
					wantInterval = int(tc.interval.Milliseconds())
				}
				if hello.D.HeartbeatInterval != wantInterval {
					t.Errorf("heartbeat_interval %d, want %d", hello.D.HeartbeatInterval, wantInterval)
				}
			}
			for _, p := range tc.send {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(p)); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for len(got) < len(tc.want) {
				_, data, err := ws.ReadMessage()
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					got = append(got, fmt.Sprintf("close %d", ce.Code))
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var f struct {
					Op int             `json:"op"`
					T  *string         `json:"t"`
					S  *int64          `json:"s"`
					D  json.RawMessage `json:"d"`
				}
				if err := json.Unmarshal(data, &f); err != nil {
					t.Fatal(err)
				}
				switch {
				case f.Op == 10 && tc.query != "":
					continue // Hello precedes an early close
				case f.Op == 0 && f.T != nil && f.S != nil:
					got = append(got, fmt.Sprintf("%s #%d", *f.T, *f.S))
				case f.Op == 9:
					got = append(got, "op 9 "+string(f.D))
				default:
					got = append(got, fmt.Sprintf("op %d", f.Op))
				}
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func decode[T any](t *testing.T, e *discordgo.Event) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(e.RawData, v); err != nil {
		t.Fatalf("%s: %v", e.Type, err)
	}
	return v
}
