// The REST Server: options, recorded state, and the path from HTTP request to route handler.

package discord

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// maxBody bounds request bodies; Discord's own cap is lower, but a fake
// must not let a runaway test exhaust memory before validation runs.
const maxBody = 64 << 20

// Options configures a Server. Ids must be snowflakes.
type Options struct {
	// BotUserID defaults to "1100000000000000001".
	BotUserID string
	// BotUsername defaults to "Tzurot".
	BotUsername string
	// ApplicationID defaults to BotUserID, as for any bot created since 2020.
	ApplicationID string
	// Token, when set, is the only bot token accepted; otherwise any
	// "Bot <token>" header is.
	Token string
	// OnMessage, when set, sees every message created, edited or deleted
	// (Deleted set), after it is recorded and before the response is written. The dev mode uses it
	// to show the bot's output. It is called synchronously and concurrently
	// from request goroutines.
	OnMessage func(Message)
	// HeartbeatInterval is the interval the gateway's Hello asks for;
	// Discord's 41.25 s by default. Tests may shorten it to see heartbeats.
	HeartbeatInterval time.Duration
	// RecommendedShards is the `shards` GET /gateway/bot recommends; 0
	// means one per MaxGuildsPerShard guilds added, at least 1.
	RecommendedShards int
	// MaxConcurrency is GET /gateway/bot's
	// session_start_limit.max_concurrency; 0 means 1, as for most bots.
	MaxConcurrency int
	// WebhookLimit and WebhookWindow are each webhook's rate limit on
	// executing it and editing or deleting its messages: 5 per 2 s by
	// default, as Discord reports it; a negative WebhookLimit switches the
	// limit off. Tests may scale both to run faster.
	WebhookLimit  int
	WebhookWindow time.Duration
}

// Request is one recorded HTTP request.
type Request struct {
	Method string
	// Path is the URL path as received, e.g. /api/v9/channels/1/messages.
	Path string
	// Route is the method and path template, e.g.
	// "POST /channels/{channel_id}/messages"; empty for unknown routes.
	Route  string
	Query  url.Values
	Header http.Header
	Body   []byte
	// JSON is the body, or the payload_json part of a multipart body, when
	// it is a JSON object. Array bodies (command bulk overwrite) are only
	// in Body.
	JSON  map[string]any
	Files []File
	// Status is the HTTP status answered.
	Status int
	Time   time.Time
	// RetryAfter is the retry_after of a 429 from a webhook's rate limit.
	RetryAfter time.Duration
}

// Server is the fake Discord REST API. It implements http.Handler and is
// safe for concurrent use.
type Server struct {
	opts Options

	mu              sync.Mutex
	ids             snowflakes
	requests        []Request
	messages        map[string]*Message
	guildAccess     map[string]*GuildAccess
	channelMessages map[string][]string
	dmChannels      map[string]string // user id -> DM channel id
	dmUsers         map[string]string // DM channel id -> user id
	blockedDMs      map[string]bool
	webhooks        map[string]*webhook
	webhooksCreated map[string]int
	deniedWebhooks  map[string]bool
	// refusedNames are substrings Discord refuses in webhook usernames
	// beyond its documented ones (RefuseWebhookUsernames).
	refusedNames []string
	interactions map[string]*interaction // by token
	commands     map[string][]map[string]any
	rateLimits   []rateLimit
	// webhookBuckets are the webhooks' rate-limit windows, retryAt when
	// each may be used again after a 429, earlyRetries the requests that
	// came sooner (webhook_limits.go); retryAt is by webhook and client.
	webhookBuckets map[string]*webhookBucket
	retryAt        map[string]time.Time
	earlyRetries   int
	drops          []drop
	attachments    map[string]Attachment
	// expiredSeq: signed URLs numbered up to it have expired
	// (ExpireAttachmentURLs); baseURL is SetBaseURL's, else the first
	// request's.
	expiredSeq uint64
	baseURL    string
	// nonces maps channel+author+nonce to the message created with it, for
	// enforce_nonce: Discord returns that message instead of creating another.
	nonces map[string]string
	// onMessage replaces Options.OnMessage when set (SetOnMessage).
	onMessage func(Message)
	// tokens are every webhook and interaction token this server issued or
	// was told about; Reset keeps them, since they stay secret.
	webhookTokens, interactionTokens map[string]bool

	// leftGuilds are the guilds the bot left with Leave Guild, in order.
	leftGuilds []string

	// gw is the websocket gateway's state, under its own lock (taken after
	// mu when both are held): connections outlive requests, and Reset does
	// not end them.
	gw gatewayHub
}

// New returns a Server with defaults filled in and nothing recorded.
func New(opts Options) *Server {
	if opts.BotUserID == "" {
		opts.BotUserID = "1100000000000000001"
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "Tzurot"
	}
	if opts.ApplicationID == "" {
		opts.ApplicationID = opts.BotUserID
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = defaultHeartbeatInterval
	}
	s := &Server{opts: opts, webhookTokens: map[string]bool{}, interactionTokens: map[string]bool{}}
	s.resetLocked()
	return s
}

func (s *Server) resetLocked() {
	s.requests = nil
	s.webhookBuckets = map[string]*webhookBucket{}
	s.retryAt = map[string]time.Time{}
	s.earlyRetries = 0
	s.messages = map[string]*Message{}
	s.channelMessages = map[string][]string{}
	s.dmChannels = map[string]string{}
	s.dmUsers = map[string]string{}
	s.blockedDMs = map[string]bool{}
	s.webhooks = map[string]*webhook{}
	s.webhooksCreated = map[string]int{}
	s.deniedWebhooks = map[string]bool{}
	s.refusedNames = nil
	s.interactions = map[string]*interaction{}
	s.commands = map[string][]map[string]any{}
	s.rateLimits = nil
	s.drops = nil
	s.attachments = map[string]Attachment{}
	s.nonces = map[string]string{}
	s.leftGuilds = nil
}

// Reset forgets everything recorded and configured since New (messages,
// webhooks, denials, interactions, commands, pending rate limits and
// drops). Ids keep increasing across resets, and Tokens still lists the
// tokens issued before.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// Options returns the effective options, defaults included.
func (s *Server) Options() Options { return s.opts }

// BotUser is the user the bot token authenticates as.
func (s *Server) BotUser() User { return s.botUser() }

func (s *Server) botUser() User {
	return User{ID: s.opts.BotUserID, Username: s.opts.BotUsername, Discriminator: "0", Bot: true}
}

// Requests returns every request received, in the order they were handled.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Messages returns every message posted in a channel, by the bot, a
// webhook, as an interaction response or by a user through
// PostUserMessage, in posting order and in their
// current state. Deleted and ephemeral messages are included; see
// Message.Deleted and Message.Ephemeral.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(s.channelMessages[channelID])
}

func (s *Server) messagesLocked(ids []string) []Message {
	out := make([]Message, 0, len(ids))
	for _, id := range ids {
		if m, ok := s.messages[id]; ok {
			out = append(out, m.clone())
		}
	}
	return out
}

// DMs returns the messages in the bot's DM channel with userID.
func (s *Server) DMs(userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(s.channelMessages[s.dmChannels[userID]])
}

// DMChannel returns the id of the DM channel opened with userID, if any.
func (s *Server) DMChannel(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.dmChannels[userID]
	return id, ok
}

// BlockDMs makes messages to userID's DM channel fail with 403 "Cannot
// send messages to this user" (50007), as when a user closes their DMs.
func (s *Server) BlockDMs(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blockedDMs[userID] = true
}

// SetOnMessage replaces Options.OnMessage: fn sees every message created
// or edited, after it is recorded and before the response is written.
func (s *Server) SetOnMessage(fn func(Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = fn
}

// Tokens returns every webhook token this server issued and every
// interaction token it issued or saw (AddInteraction, StartInteraction, a
// callback for an interaction it was not told about), sorted, so tests can
// check that none of them leaks into logs, errors, histories or spans.
func (s *Server) Tokens() (webhook, interaction []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.webhookTokens {
		webhook = append(webhook, t)
	}
	for t := range s.interactionTokens {
		interaction = append(interaction, t)
	}
	slices.Sort(webhook)
	slices.Sort(interaction)
	return webhook, interaction
}

// ListenAndServe serves on addr until ctx is cancelled, then shuts down
// gracefully. It returns nil after a cancellation-triggered shutdown.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on an existing listener, for callers that bind
// ":0" and need the port before serving.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// The gateway's connections must end with the server.
	return fakehttp.Serve(ctx, ln, s, func() { s.Disconnect(websocket.CloseGoingAway, "") })
}

// call is the per-request context handed to route handlers.
type call struct {
	r      *http.Request
	rec    *Request
	params map[string]string
	body   payload
}

func (c *call) baseURL() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isGatewayPath(r.URL.Path) {
		s.serveGateway(w, r)
		return
	}
	rec := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Time:   time.Now(),
	}
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	rec.Body = body
	var p payload
	if readErr != nil {
		rep := tooLarge()
		p.fail = &rep
	} else {
		p = parsePayload(r, body)
	}
	rec.JSON = p.object
	rec.Files = p.files

	s.mu.Lock()
	if s.baseURL == "" {
		s.baseURL = (&call{r: r}).baseURL()
	}
	rep := s.dispatchLocked(r, &rec, p)
	if rep.drop {
		// Status stays 0: nothing was answered.
		s.requests = append(s.requests, rec)
		hook := s.opts.OnMessage
		s.mu.Unlock()
		if hook != nil {
			for _, m := range rep.notify {
				hook(m)
			}
		}
		dropConnection(w)
		return
	}
	encoded, err := encode(rep)
	if err != nil {
		rep = apiError(http.StatusInternalServerError, 0, "500: Internal Server Error")
		encoded, _ = encode(rep)
	}
	rec.Status = rep.status
	s.requests = append(s.requests, rec)
	hook := s.opts.OnMessage
	if s.onMessage != nil {
		hook = s.onMessage
	}
	s.mu.Unlock()

	if hook != nil {
		for _, m := range rep.notify {
			hook(m)
		}
	}

	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	if rep.status == http.StatusNoContent {
		w.WriteHeader(rep.status)
		return
	}
	if rep.raw != nil {
		h.Set("Content-Type", rep.contentType)
	} else {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(encoded)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(encoded)
}

func encode(rep reply) ([]byte, error) {
	if rep.raw != nil || rep.status == http.StatusNoContent {
		return rep.raw, nil
	}
	return json.Marshal(rep.body)
}

func (s *Server) dispatchLocked(r *http.Request, rec *Request, p payload) (rep reply) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/attachments/"); ok && r.Method == http.MethodGet {
		// The CDN stand-in: /attachments/{channel_id}/{attachment_id}/{filename}.
		rec.Route = "GET /attachments/{channel_id}/{attachment_id}/{filename}"
		segs := strings.Split(rest, "/")
		if len(segs) != 3 {
			return notFoundRoute()
		}
		return s.serveAttachment(segs[1], r.URL.Query())
	}
	rel, ok := cutAPIPrefix(r.URL.Path)
	if !ok {
		return notFoundRoute()
	}
	rt, params, methodMismatch := match(r.Method, rel)
	if rt == nil {
		if methodMismatch {
			return apiError(http.StatusMethodNotAllowed, 0, "405: Method Not Allowed")
		}
		return notFoundRoute()
	}
	rec.Route = rt.method + " " + rt.pattern
	if rt.auth && !s.authorized(r) {
		return unauthorized()
	}
	if rep, limited := s.takeRateLimitLocked(rt, rel); limited {
		return rep
	}
	if key := webhookBucketKey(rt, params); key != "" {
		h, limited := s.takeWebhookSlotLocked(rt, key, rec)
		if limited != nil {
			return *limited
		}
		defer func() {
			if rep.header == nil {
				rep.header = http.Header{}
			}
			for k, v := range h {
				rep.header[k] = v
			}
		}()
	}
	if d, ok := s.takeDropLocked(rt, rel); ok {
		if !d.handled {
			return reply{drop: true}
		}
		defer func() { rep.drop = true }()
	}
	// Walk the pattern rather than the map so the reported field is
	// deterministic when several ids are malformed.
	for _, seg := range strings.Split(rt.pattern, "/") {
		name := strings.Trim(seg, "{}")
		v, isParam := params[name]
		if isParam && strings.HasSuffix(name, "_id") && !(name == "message_id" && v == "@original") && !isSnowflake(v) {
			return notSnowflake(name, v)
		}
	}
	if p.fail != nil {
		return *p.fail
	}
	return rt.handle(s, &call{r: r, rec: rec, params: params, body: p})
}

func cutAPIPrefix(path string) (string, bool) {
	for _, prefix := range []string{"/api/v9/", "/api/v10/"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			return "/" + rest, true
		}
	}
	return "", false
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || scheme != "Bot" || strings.TrimSpace(token) == "" {
		return false
	}
	return s.opts.Token == "" || token == s.opts.Token
}
