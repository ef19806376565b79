// The gateway websocket: upgrade, Hello, heartbeats, opcodes, close codes, open connections.

package discord

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// gatewayPath is the websocket endpoint; GET /gateway and /gateway/bot
// answer with a URL pointing here.
const gatewayPath = "/gateway-ws"

// defaultHeartbeatInterval is what Discord sends in Hello.
const defaultHeartbeatInterval = 41250 * time.Millisecond

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
