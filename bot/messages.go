package bot

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/access"
	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/limits"
	"github.com/tzurot/tzurot/internal/msglink"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/workflows"
)

// HandleMessage routes a message to the personalities it is for: those it
// mentions (@name or @alias, longest match), the one whose message it replies
// to, or — in a DM to the bot — the one the user last talked to there. A
// forward is routed by the same rule on its own text and reference: in a
// DM it goes on with the last personality; in a guild channel it is
// addressed only when its own text mentions one (Discord's clients send
// the forwarder's comment as a separate message, so a bare forward is
// not) — never by the forwarded text's mentions, nor as a reply to the
// message it copies. It returns how many replies it started (each on a
// goroutine of its own): 0 for a message addressed to no personality.
func (b *Bot) HandleMessage(ctx context.Context, m *discordgo.MessageCreate) int {
	if m.WebhookID != "" || (m.Author != nil && m.Author.Bot) {
		// Perhaps a reply we are showing "typing…" for.
		b.wakeTyping(m.ChannelID)
	}
	if m.Author == nil || m.Author.Bot || m.WebhookID != "" || (strings.TrimSpace(m.Content) == "" && len(imagesOf(m.Message)) == 0 && !isForward(m.Message)) {
		return 0
	}
	if user, guild := b.denied(ctx, m.Author.ID, m.GuildID); user || guild {
		return 0 // no reply, no workflow, not even a refusal
	}
	targets, err := b.route(ctx, m.Message)
	if err != nil {
		b.Log.Error("route message", "channel", m.ChannelID, "err", redact.String(err.Error()))
		return 0
	}
	for _, t := range targets {
		go b.startReply(ctx, m.Message, t, len(targets) > 1)
	}
	return len(targets)
}

// imagesOf is the metadata of the message's image attachments (a
// content_type of image/*, as Discord reports it): the worker fetches their
// bytes and refuses the kinds and sizes it cannot take, saying why.
func imagesOf(m *discordgo.Message) []workflows.Attachment {
	var out []workflows.Attachment
	for _, a := range m.Attachments {
		if a == nil || !strings.HasPrefix(a.ContentType, "image/") {
			continue
		}
		out = append(out, workflows.Attachment{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, URL: a.URL})
	}
	return out
}

// isForward reports whether m forwards another message (a
// message_reference of type FORWARD with its message_snapshots).
func isForward(m *discordgo.Message) bool {
	return m.MessageReference != nil && m.MessageReference.Type == discordgo.MessageReferenceTypeForward && len(m.MessageSnapshots) > 0
}

// referencesOf is the ids of what m points at, for the worker to fetch:
// the message it replies to, whether it is a forward, and (by References
// being set at all) that its text has message links to follow — the
// worker follows those only where both the speaker and the bot can read
// the channel. Nil when m points at nothing.
func referencesOf(m *discordgo.Message) *workflows.References {
	var refs workflows.References
	if r := m.MessageReference; r != nil && r.MessageID != "" && r.Type == discordgo.MessageReferenceTypeDefault {
		ch := r.ChannelID
		if ch == "" {
			ch = m.ChannelID
		}
		refs.ReplyTo = &workflows.MessageRef{ChannelID: ch, MessageID: r.MessageID}
	}
	refs.Forward = isForward(m)
	if refs.ReplyTo == nil && !refs.Forward && len(msglink.Parse(m.Content)) == 0 {
		return nil
	}
	return &refs
}

// target is one personality a message is for.
type target struct {
	ID   uuid.UUID
	Name string
}

// route finds the targets of m. The speaker (a users row read) is loaded
// only once m is found addressed to a personality — it mentions one, replies
// to one's message, or is in a DM where one spoke last — since most messages
// in a guild are addressed to none.
func (b *Bot) route(ctx context.Context, m *discordgo.Message) ([]target, error) {
	index, err := b.personalities.get(ctx, b.store)
	if err != nil {
		return nil, err
	}
	var (
		speaker access.Speaker
		loaded  bool
	)
	speakerOf := func() (access.Speaker, error) {
		if !loaded {
			if speaker, err = b.store.Speaker(ctx, m.Author.ID, b.Config.BotOwnerDiscordID); err != nil {
				return speaker, err
			}
			loaded = true
		}
		return speaker, nil
	}
	var out []target
	if index.Mentioned(m.Content) {
		sp, err := speakerOf()
		if err != nil {
			return nil, err
		}
		for i, p := range index.Mentions(sp, m.Content, limits.Ceilings().MaxMentionsPerMessage) {
			// A personality answers when it is among the first
			// max_mentions_per_message personalities the message mentions (its
			// own limit, else the default).
			if i < mentionLimit(p) {
				out = append(out, target{ID: p.ID, Name: p.Name})
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// usable is the personality id as a target, when the speaker may use it.
	usable := func(id uuid.UUID) ([]target, bool, error) {
		sp, err := speakerOf()
		if err != nil {
			return nil, false, err
		}
		if p, ok := b.store.Usable(ctx, sp, id); ok {
			return []target{{ID: p.ID, Name: p.Name}}, true, nil
		}
		return nil, false, nil
	}
	// A reply to one of a personality's own messages continues with it,
	// when the speaker may use it. A forward is no reply: its
	// message_reference (type FORWARD) points at the message it copies, so
	// forwarding a personality's message addresses no one.
	if r := m.MessageReference; r != nil && r.MessageID != "" && r.Type == discordgo.MessageReferenceTypeDefault {
		if id, ok := b.personalityOfMessage(ctx, m.MessageReference.MessageID); ok {
			out, _, err := usable(id)
			return out, err
		}
	}
	if m.GuildID == "" {
		if id, ok, _ := b.store.LastInChannel(ctx, m.ChannelID); ok {
			if out, ok, err := usable(id); ok || err != nil {
				return out, err
			}
		}
		_, err := b.Session.ChannelMessageSend(m.ChannelID, "Mention a personality to talk to it, e.g. `@"+index.Example()+" hello`.")
		return nil, err
	}
	return nil, nil
}

// startReply starts GenerateReply with an id derived from the Discord message
// id, so a redelivered gateway event cannot produce a second reply, and shows
// the typing indicator until the reply (or the message saying why there is
// none) is posted.
func (b *Bot) startReply(ctx context.Context, m *discordgo.Message, t target, several bool) {
	requestID := activities.ReplyRequestID(m.ID, t.ID, several)
	username := authorName(m)
	// Content is the message as written: the message replied to, the one
	// forwarded and the linked ones are fetched and quoted by the worker
	// (References), by id.
	in := workflows.GenerateReplyInput{
		RequestID: requestID, DiscordUserID: m.Author.ID, Username: username,
		Personality: t.ID.String(), ChannelID: m.ChannelID, GuildID: m.GuildID,
		MessageID: m.ID, Content: m.Content, Mentions: b.mentionNames(m), Attachments: imagesOf(m), References: referencesOf(m),
	}
	run, err := b.attrs.Start(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.GenerateReplyID(requestID),
		TaskQueue:                                b.Config.TemporalTaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            replySummary(username, t.Name),
		StaticDetails:                            replyDetails(m.Author.ID, username, t.Name, t.ID.String(), m.GuildID, m.ChannelID, m.ID),
	}, workflows.GenerateReplyName, func(set searchattr.Set) any {
		in.SearchAttributes = set
		return in
	}, startValues(m.Author.ID, t.Name, "")...)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return // a redelivered event: the first start is answering
	}
	if err != nil {
		b.Log.Error("start GenerateReply", "request_id", requestID, "err", redact.String(err.Error()))
		return
	}
	done := make(chan struct{})
	go b.showTyping(ctx, m.ChannelID, requestID, done)
	var res workflows.GenerateReplyResult
	err = run.Get(ctx, &res)
	close(done)
	if err != nil {
		b.Log.Error("GenerateReply failed", "request_id", requestID, "err", redact.String(err.Error()))
		return
	}
	b.Log.Info("replied", "request_id", requestID, "personality", t.Name, "outcome", res.Outcome)
}

// DefaultTypingInterval re-sends the typing indicator before Discord's
// lapses: one trigger shows it for about 10 s
// (https://discord.com/developers/docs/resources/channel#trigger-typing-indicator).
const DefaultTypingInterval = 8 * time.Second

// MaxTyping bounds the typing indicator of one reply whatever else happens:
// longer than a reply normally takes with its retries (a provider wait is
// at most activities.MaxRetryWait), short enough that a lost signal cannot
// leave the bot "typing" for good.
const MaxTyping = 5 * time.Minute

// typingPoll is how often a typing loop looks for its reply's delivery when
// no gateway event woke it first.
const typingPoll = time.Second

// showTyping shows "… is typing" in the channel until the request's reply,
// or the message saying why there is none, is posted — the workflow records
// every post in the deliveries table under reply/<request_id>/reply/… before
// it goes on (saving turns, or waiting on a worker), and a message from our
// webhook or bot in the channel makes the loop look at once — or until the
// workflow ends (done), or MaxTyping. Discord cannot take a typing
// indicator back, so what this controls is never sending it again once the
// reply is there.
func (b *Bot) showTyping(ctx context.Context, channelID, requestID string, done <-chan struct{}) {
	wake := b.watchTyping(channelID)
	defer b.unwatchTyping(channelID, wake)
	limit := time.NewTimer(MaxTyping)
	defer limit.Stop()
	poll := time.NewTicker(min(typingPoll, b.TypingInterval))
	defer poll.Stop()
	var last time.Time
	for {
		if b.replyPosted(ctx, requestID) {
			return
		}
		if now := time.Now(); now.Sub(last) >= b.TypingInterval {
			if err := b.Session.ChannelTyping(channelID); err != nil {
				return
			}
			last = now
		}
		select {
		case <-done:
			return
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
		}
	}
}

// replyPosted reports whether the workflow of requestID has posted the
// first part of its reply or refusal in the channel: its delivery row holds
// a message id (a row without one is a post begun, not made). One query on
// the deliveries key's unique index. A failed look-up counts as not yet:
// typing a little longer is the harmless error.
func (b *Bot) replyPosted(ctx context.Context, requestID string) bool {
	wf := workflows.GenerateReplyID(requestID)
	// A streamed reply's first message is posted under the Stream key, a
	// whole reply's (or a refusal's) under Reply: either ends the typing.
	ok, err := b.store.Posted(ctx,
		deliverykey.Part(deliverykey.New(wf, deliverykey.Stream), 0),
		deliverykey.Part(deliverykey.New(wf, deliverykey.Reply), 0))
	return err == nil && ok
}

func (b *Bot) watchTyping(channelID string) chan struct{} {
	wake := make(chan struct{}, 1)
	b.typingMu.Lock()
	defer b.typingMu.Unlock()
	if b.typing == nil {
		b.typing = map[string]map[chan struct{}]struct{}{}
	}
	if b.typing[channelID] == nil {
		b.typing[channelID] = map[chan struct{}]struct{}{}
	}
	b.typing[channelID][wake] = struct{}{}
	return wake
}

func (b *Bot) unwatchTyping(channelID string, wake chan struct{}) {
	b.typingMu.Lock()
	defer b.typingMu.Unlock()
	delete(b.typing[channelID], wake)
	if len(b.typing[channelID]) == 0 {
		delete(b.typing, channelID)
	}
}

// wakeTyping makes the channel's typing loops look for their replies now.
func (b *Bot) wakeTyping(channelID string) {
	b.typingMu.Lock()
	defer b.typingMu.Unlock()
	for wake := range b.typing[channelID] {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// personalityOfMessage is the personality whose reply the Discord message
// messageID is part of.
func (b *Bot) personalityOfMessage(ctx context.Context, messageID string) (uuid.UUID, bool) {
	if id, ok := b.store.Answered(ctx, messageID); ok {
		return id, true
	}
	// A reply split over several messages records only the first; the
	// deliveries table knows the rest, under its reply's request id: the
	// Discord message asked, with a -suffix when it asked several.
	// A post that recorded whom it spoke as (every reply's since
	// migration 0029) answers for itself: a refusal saved no turn.
	key, spoke, ok, err := b.store.DeliveryOf(ctx, messageID)
	if err != nil || !ok {
		return uuid.Nil, false
	}
	if spoke != nil {
		return *spoke, true
	}
	k, err := deliverykey.Parse(key)
	if err != nil {
		return uuid.Nil, false
	}
	req, ok := strings.CutPrefix(k.Workflow, workflows.GenerateReplyID(""))
	if !ok {
		return uuid.Nil, false
	}
	asked, _, _ := strings.Cut(req, "-")
	return b.store.AskedOf(ctx, asked)
}

// personalityCache keeps every personality with its aliases to find
// mentions in (access.Index), refreshed every ttl so new personalities and
// aliases are found soon. Who may use which is decided per message by
// access; the workflow re-checks it against the database.
type personalityCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	at      time.Time
	current *access.Index
}

func (c *personalityCache) get(ctx context.Context, s *store.Store) (*access.Index, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != nil && time.Since(c.at) < c.ttl {
		return c.current, nil
	}
	index, err := s.MentionIndex(ctx)
	if err != nil {
		return nil, err
	}
	c.current, c.at = index, time.Now()
	return c.current, nil
}

// invalidate makes the next message reload names and aliases.
func (c *personalityCache) invalidate() {
	c.mu.Lock()
	c.current = nil
	c.mu.Unlock()
}
