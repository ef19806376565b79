package activities

// Long-term memory on the reply path: what the personality remembers about
// the speaker is recalled into the prompt (recall, withMemories), and each
// exchange is remembered after the reply is posted (Remember, run by the
// RememberExchange workflow). Storage and search are internal/memory's.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/limits"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/openrouter"
)

// DefaultMemoryScoreThreshold is the least cosine similarity a memory
// needs to be recalled when the personality sets no
// memory_score_threshold. OpenAI's text-embedding-3 models put unrelated
// texts at about 0.1 to 0.25 and texts on one subject from about 0.3; the
// memory_limit bounds how many of those reach the prompt.
const DefaultMemoryScoreThreshold = 0.3

// recallTimeout bounds embedding the query and searching at reply time:
// past it the reply goes on without memories.
const recallTimeout = 4 * time.Second

// Bounds of the texts embedded, in runes: a turn of the recall query,
// each side of a remembered exchange, and every input sent to the
// embeddings endpoint (MaxEmbedRunes).
const (
	maxQueryTurnRunes  = 1000
	maxMemorySideRunes = 300
)

// MaxEmbedRunes bounds each text sent to OpenRouter's embeddings endpoint
// (POST /api/v1/embeddings, OpenAI's request shape: input a string or an
// array of them): the recall query's message, its recent turns, a memory.
// Embedding models take a bounded input — OpenAI's API reference: each
// input at most the model's max input, 8,191 tokens for text-embedding-3,
// and 300,000 summed over a request; OpenRouter passes the limit on and
// answers past it with a 400 — and a rune
// is at most about three tokens in their tokenizer (cl100k_base; English
// averages four runes a token), so 2,000 runes, Discord's message limit,
// stay under it for any script. Longer texts are cut (cut, cutStart).
const MaxEmbedRunes = 2000

// QueryMessageWeight is the share of the new message in the recall query;
// the recent turns have the rest. The message and the turns are embedded
// as two inputs of one call, each vector made unit length, and the query
// is QueryMessageWeight·message + (1−QueryMessageWeight)·turns: what the
// user asks now decides what is recalled, the turns only tip it, however
// long or repetitive they are.
const QueryMessageWeight = 0.75

// UsageEmbedding is usage_logs.request_type of an embeddings call.
const UsageEmbedding = "embedding"

// memorySettings are the personality's long-term memory settings: its
// llm_configs values, else the system defaults (internal/limits and
// DefaultMemoryScoreThreshold). A value out of range counts as unset.
type memorySettings struct {
	limit, historyTurns int
	minScore            float64
}

func memorySettingsOf(cfg *ent.LLMConfig) memorySettings {
	if cfg == nil {
		d := limits.Defaults()
		return memorySettings{limit: d.MemoryLimit, historyTurns: d.LTMSearchHistoryTurns, minScore: DefaultMemoryScoreThreshold}
	}
	lim, _ := limits.Resolve(limits.Overrides{MemoryLimit: cfg.MemoryLimit, LTMSearchHistoryTurns: cfg.LtmSearchHistoryTurns})
	s := memorySettings{limit: lim.MemoryLimit, historyTurns: lim.LTMSearchHistoryTurns, minScore: DefaultMemoryScoreThreshold}
	if t := cfg.MemoryScoreThreshold; t != nil && *t >= -1 && *t <= 1 {
		s.minScore = *t
	}
	return s
}

// RecallLogMessage is the message of the debug record a recall that
// searched logs, with "memories" (how many were recalled), "duration" (the
// whole recall: embedding the query, its usage row, the search) and
// "search_duration" (the search alone), both in nanoseconds in JSON logs.
const RecallLogMessage = "long-term memory recalled"

// recall finds what the personality remembers about the speaker that is
// near the last few turns and the new message, and says whether this
// exchange is to be remembered afterwards. Long-term memory is off for the
// whole worker without a Memory index, and for a personality whose
// memory_limit is 0. The query is embedded on the key that pays for the
// reply when it is the user's, else on the operator's only as resolveKey
// allows for EMBEDDING_MODEL (operatorKeyFor: Generate already found the
// user has no key); the incognito flag is u's, read by Generate; with no such key nothing is recalled or
// remembered. Any failure of the recall is logged and the reply goes on
// without memories: it never fails or holds the reply past recallTimeout.
//
// Memories of the exchanges in seen — the turns the model gets in this
// request's conversation — are left out (ReplyRequestIDs), so the places
// memory_limit gives go to what the model would not otherwise see.
func (a *Activities) recall(ctx context.Context, in GenerateInput, u *ent.User, p *ent.Personality, key, source string, history, seen []Turn) (found []memory.Scored, remember bool) {
	set := memorySettingsOf(p.Edges.LlmConfig)
	if a.Memory == nil || set.limit == 0 {
		return nil, false
	}
	if source != KeyFromUser {
		// Generate's resolveKey found no key of the user's: only the
		// operator's may pay, as GUEST_MODE allows for this model.
		var err error
		if key, source, err = a.operatorKeyFor(a.EmbeddingModel); err != nil {
			return nil, false
		}
	}
	remember = !a.incognitoAtReply(ctx, in.DiscordUserID, u)
	if u == nil {
		return nil, remember // no row yet, so nothing remembered yet
	}
	inputs, weights := recallInputs(history, set.historyTurns, in.Content)
	if len(inputs) == 0 {
		return nil, remember
	}
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, recallTimeout)
	defer cancel()
	emb, err := a.OpenRouter.Embed(rctx, key, a.EmbeddingModel, inputs)
	if err != nil {
		a.Log.Warn("long-term memory not recalled: embedding the query failed; replying without memories", "error", err, "key_source", source)
		return nil, remember
	}
	a.writeEmbeddingUsage(rctx, UsageRecord{
		ID: callUsageID(ctx, in.RequestID, "recall"), DiscordUserID: in.DiscordUserID, PersonalityID: &p.ID,
		Model: emb.Model, Usage: emb.Usage, Kind: UsageEmbedding, userID: u.ID,
	})
	searched := time.Now()
	found, err = a.Memory.Search(rctx, memory.Query{
		PersonalityID: p.ID, UserID: u.ID, Model: a.EmbeddingModel, Vector: weighted(emb.Vectors, weights),
		Limit: set.limit, MinScore: set.minScore, Exclude: seenMemories(seen, p.ID),
	})
	if err != nil {
		a.Log.Warn("long-term memory not recalled: the search failed; replying without memories", "error", err)
		return nil, remember
	}
	a.Log.Debug(RecallLogMessage, "memories", len(found),
		"duration", time.Since(start), "search_duration", time.Since(searched))
	return found, remember
}

// isIncognito asks the Incognito hook, else the store's users.incognito.
func (a *Activities) isIncognito(ctx context.Context, discordUserID string) (bool, error) {
	if a.Incognito != nil {
		return a.Incognito(ctx, discordUserID)
	}
	return a.store().Incognito(ctx, discordUserID)
}

// incognitoAtReply is whether the user is incognito at reply time: the
// Incognito hook when set, else the flag of u, the row Generate read (nil:
// no row, so not incognito), with no query of its own. A hook's error
// counts as incognito.
func (a *Activities) incognitoAtReply(ctx context.Context, discordUserID string, u *ent.User) bool {
	if a.Incognito == nil {
		return u != nil && u.Incognito
	}
	on, err := a.Incognito(ctx, discordUserID)
	if err != nil {
		a.Log.Warn("incognito not known; this exchange will not be remembered", "error", err)
		return true
	}
	return on
}

// writeEmbeddingUsage writes the usage row of the recall's embedding within
// the recall's time; a row that cannot be written then is logged, since
// holding the reply for bookkeeping is worse than losing a row of a few
// hundred tokens.
func (a *Activities) writeEmbeddingUsage(ctx context.Context, rec UsageRecord) {
	if err := a.writeUsage(ctx, rec); err != nil {
		a.Log.Warn("usage row of an embedding not written", "error", err, "tokens", rec.Usage.TotalTokens, "model", rec.Model)
	}
}

// recallInputs are the texts a recall embeds and their weights: the new
// message, and the last n turns of the conversation (both sides, one to a
// line, each cut to maxQueryTurnRunes), with QueryMessageWeight and the
// rest. Each is cut to MaxEmbedRunes, the turns keeping their newest end.
// An empty one is left out (an image alone has no text), and the other
// then has all the weight; none when both are empty.
func recallInputs(history []Turn, n int, content string) ([]string, []float64) {
	var lines []string
	for _, t := range history[max(len(history)-n, 0):] {
		if c := strings.TrimSpace(t.Content); c != "" {
			lines = append(lines, cut(c, maxQueryTurnRunes))
		}
	}
	var inputs []string
	var weights []float64
	if c := strings.TrimSpace(content); c != "" {
		inputs, weights = append(inputs, cut(c, MaxEmbedRunes)), append(weights, QueryMessageWeight)
	}
	if len(lines) > 0 {
		inputs, weights = append(inputs, cutStart(strings.Join(lines, "\n"), MaxEmbedRunes)), append(weights, 1-QueryMessageWeight)
	}
	return inputs, weights
}

// weighted is the sum of the vectors, each made unit length and scaled by
// its weight; a single vector is returned as it is.
func weighted(vs [][]float32, weights []float64) []float32 {
	if len(vs) == 1 {
		return vs[0]
	}
	out := make([]float32, len(vs[0]))
	for i, v := range vs {
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if norm == 0 || len(v) != len(out) {
			continue
		}
		scale := weights[i] / math.Sqrt(norm)
		for j, x := range v {
			out[j] += float32(float64(x) * scale)
		}
	}
	return out
}

// seenTurns are the last n user and assistant turns of history: those
// BuildMessages kept in the conversation (it drops the oldest past the
// token budget).
func seenTurns(history []Turn, n int) []Turn {
	i := len(history)
	for ; i > 0 && n > 0; i-- {
		if r := history[i-1].Role; r == "user" || r == "assistant" {
			n--
		}
	}
	return history[i:]
}

// seenMemories are the ids the memories of the exchanges begun by the user
// turns of seen may have (ReplyRequestIDs), at most memory.MaxExclude.
func seenMemories(seen []Turn, personalityID uuid.UUID) []uuid.UUID {
	var out []uuid.UUID
	for _, t := range seen {
		if t.Role != "user" || t.MessageID == "" {
			continue
		}
		for _, id := range ReplyRequestIDs(t.MessageID, personalityID) {
			out = append(out, MemoryID(id))
		}
	}
	return out[max(len(out)-memory.MaxExclude, 0):]
}

// ReplyRequestID is the request id of personalityID's reply to Discord
// message messageID (GenerateReplyInput.RequestID, and so the memory's id):
// the message id, with the personality's first 8 hex digits when the
// message addressed several personalities.
func ReplyRequestID(messageID string, personalityID uuid.UUID, several bool) string {
	if several {
		return messageID + "-" + personalityID.String()[:8]
	}
	return messageID
}

// ReplyRequestIDs are both request ids ReplyRequestID may have given.
func ReplyRequestIDs(messageID string, personalityID uuid.UUID) [2]string {
	return [2]string{ReplyRequestID(messageID, personalityID, false), ReplyRequestID(messageID, personalityID, true)}
}

// withMemories adds to the system message (msgs[0]) a section of its own
// with what the personality remembers about the user, oldest first, each
// with the date it was written in the user's zone:
//
//	Things you remember about alice (from earlier conversations; memories, not this conversation):
//	- (2026-11-02) alice: "my cat is called Pixel"; Kerach: "What a lovely name."
//
// msgs is returned unchanged when nothing was recalled.
func withMemories(msgs []openrouter.Message, username, timezone string, found []memory.Scored) []openrouter.Message {
	if len(found) == 0 || len(msgs) == 0 || msgs[0].Role != "system" {
		return msgs
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil || timezone == "" {
		loc = time.UTC
	}
	byDate := slices.Clone(found)
	slices.SortStableFunc(byDate, func(x, y memory.Scored) int { return x.CreatedAt.Compare(y.CreatedAt) })
	var b strings.Builder
	fmt.Fprintf(&b, "\n\nThings you remember about %s (from earlier conversations; memories, not this conversation):", displayUser(username))
	for _, m := range byDate {
		fmt.Fprintf(&b, "\n- (%s) %s", m.CreatedAt.In(loc).Format(time.DateOnly), oneLine(m.Content))
	}
	out := slices.Clone(msgs)
	out[0].Content += b.String()
	return out
}

// RememberInput is one exchange to remember: the user's message and the
// personality's reply.
type RememberInput struct {
	// RequestID is the reply's request: the memory's id and its usage row
	// derive from it, so the exchange is remembered once.
	RequestID     string    `json:"request_id"`
	DiscordUserID string    `json:"discord_user_id"`
	Username      string    `json:"username,omitempty"`
	PersonalityID uuid.UUID `json:"personality_id"`
	UserContent   string    `json:"user_content"`
	ReplyContent  string    `json:"reply_content"`
	// Mentions name the mentions in UserContent, as GenerateInput's do
	// (optional: runs started before it have none; the speaker's own
	// mention is named by Username either way).
	Mentions *MentionNames `json:"mentions,omitempty"`
}

// Outcomes of Remember.
const (
	Remembered             = "remembered"
	NotRememberedOff       = "off"       // no Memory index, personality gone, or its memory_limit is 0
	NotRememberedIncognito = "incognito" // the user is incognito
	NotRememberedKey       = "no_key"    // no key may pay for the embedding (ErrNoKey, ErrKeyInactive)
)

// RememberOutput says what Remember did.
type RememberOutput struct {
	Outcome  string    `json:"outcome"`
	MemoryID uuid.UUID `json:"memory_id,omitempty"`
	// PendingUsage is the embedding's usage row when it could not be
	// written: the workflow writes it with RecordUsage.
	PendingUsage *UsageRecord `json:"pending_usage,omitempty"`
}

// memoryNamespace scopes the name-based (v5) ids of remembered exchanges.
var memoryNamespace = uuid.MustParse("0b7c8f3e-2d4a-4e61-9f05-7a1c3e9d2b48")

// MemoryID is the id of the memory of request requestID's exchange.
func MemoryID(requestID string) uuid.UUID { return uuid.NewSHA1(memoryNamespace, []byte(requestID)) }

// Remember stores the exchange as a memory of the personality about the
// user: "<username>: "<message>"; <personality>: "<reply>"" (memoryContent,
// mentions written as names as SaveTurns keeps them), embedded with EMBEDDING_MODEL on the key resolveKey picks
// for that model — the user's; the operator's only as GUEST_MODE allows;
// never another after the user's key was switched off — with a usage row of
// kind embedding. Run after the reply was posted, and retried in the
// background while OpenRouter fails (rememberError). Idempotent: a memory already written
// for the request is found, not paid for again. Nothing is stored, with an
// outcome saying why, for a user who is incognito (checked on every
// attempt), without a key that may pay, or when memory is off.
func (a *Activities) Remember(ctx context.Context, in RememberInput) (RememberOutput, error) {
	if in.RequestID == "" || in.DiscordUserID == "" || strings.TrimSpace(in.UserContent) == "" || strings.TrimSpace(in.ReplyContent) == "" {
		return RememberOutput{}, badInput("request_id, discord_user_id, user_content and reply_content are required")
	}
	st := a.store()
	id := MemoryID(in.RequestID)
	done, err := st.HasMemory(ctx, id)
	if err != nil {
		return RememberOutput{}, fmt.Errorf("look up the memory: %w", err)
	}
	if done {
		return RememberOutput{Outcome: Remembered, MemoryID: id}, nil
	}
	if a.Memory == nil {
		return RememberOutput{Outcome: NotRememberedOff}, nil
	}
	p, err := st.PersonalityWithModel(ctx, in.PersonalityID)
	if ent.IsNotFound(err) || (err == nil && memorySettingsOf(p.Edges.LlmConfig).limit == 0) {
		return RememberOutput{Outcome: NotRememberedOff}, nil
	}
	if err != nil {
		return RememberOutput{}, fmt.Errorf("load personality: %w", err)
	}
	on, err := a.isIncognito(ctx, in.DiscordUserID)
	if err != nil {
		return RememberOutput{}, fmt.Errorf("look up incognito: %w", err)
	}
	if on {
		return RememberOutput{Outcome: NotRememberedIncognito}, nil
	}
	userID, err := a.ensureUser(ctx, in.DiscordUserID, "")
	if err != nil {
		return RememberOutput{}, err
	}
	u, err := st.User(ctx, in.DiscordUserID)
	if err != nil {
		return RememberOutput{}, fmt.Errorf("load user: %w", err)
	}
	key, source, err := a.resolveKey(ctx, u, a.EmbeddingModel)
	if isType(err, ErrNoKey) || isType(err, ErrKeyInactive) {
		return RememberOutput{Outcome: NotRememberedKey}, nil
	}
	if err != nil {
		return RememberOutput{}, err
	}
	// Mentions as names, as the conversation history keeps them (SaveTurns).
	names, lim := exchangeNames(in.Mentions, in.DiscordUserID, in.Username), mentionLimitsOf(p.Edges.LlmConfig)
	content := memoryContent(in.Username, deref(p.DisplayName, p.Name),
		ReplaceMentions(in.UserContent, names, lim), ReplaceMentions(in.ReplyContent, names, lim))
	emb, err := a.OpenRouter.Embed(ctx, key, a.EmbeddingModel, []string{content})
	if err != nil {
		return RememberOutput{}, a.rememberError(ctx, err, key, source)
	}
	// Paid for from here: nothing below may fail the activity in a way
	// that repeats the call.
	out := RememberOutput{Outcome: Remembered, MemoryID: id}
	rec := UsageRecord{
		ID: callUsageID(ctx, in.RequestID, "remember"), DiscordUserID: in.DiscordUserID, PersonalityID: &in.PersonalityID,
		Model: emb.Model, Usage: emb.Usage, Kind: UsageEmbedding,
	}
	if err := a.recordUsage(ctx, rec); err != nil {
		out.PendingUsage = &rec
	}
	_, err = retryTransient(ctx, a.Log, func() (memory.Memory, error) {
		return a.Memory.Add(ctx, memory.Memory{ID: id, PersonalityID: in.PersonalityID, UserID: userID,
			Content: content, Model: a.EmbeddingModel, Embedding: emb.Vectors[0]})
	})
	if errors.Is(err, memory.ErrInvalid) {
		return out, temporal.NewNonRetryableApplicationError("the memory cannot be stored: "+err.Error(), ErrBadInput, nil)
	}
	return out, err
}

// rememberError classifies a failed embedding of a memory as
// classifyCallError does a reply's, except that every wait the provider
// asks for (a 429's Retry-After, a daily cap's reset) is waited out and
// retried, where a reply someone is waiting for gives up past
// MaxRetryWait: nobody waits for a memory.
func (a *Activities) rememberError(ctx context.Context, err error, key, source string) error {
	oe, ok := openrouter.AsError(err)
	if !ok || !oe.Retryable() {
		return a.classifyCallError(ctx, err, key, source)
	}
	typ, wait := ErrUnavailable, oe.RetryAfter
	if oe.Kind == openrouter.KindRateLimited {
		typ = ErrRateLimited
		if oe.RateLimit.Daily() {
			wait = dailyReset(oe).RetryAfter
		}
	}
	return temporal.NewApplicationErrorWithOptions(oe.Error(), typ, temporal.ApplicationErrorOptions{NextRetryDelay: wait})
}

// memoryContent is the text of an exchange's memory, on one line, each
// side labelled with its speaker's name — the user's display name (else
// "the user") and the personality's — so it reads right whoever the user
// is and whichever personality recalls it:
//
//	alice: "my cat is called Pixel"; Kerach: "What a lovely name."
//
// Each side is cut to maxMemorySideRunes, the whole to MaxEmbedRunes.
func memoryContent(username, personality, message, reply string) string {
	return cut(fmt.Sprintf(`%s: "%s"; %s: "%s"`, displayUser(username), cut(oneLine(message), maxMemorySideRunes),
		oneLine(personality), cut(oneLine(reply), maxMemorySideRunes)), MaxEmbedRunes)
}

// oneLine is s with its runs of white space (newlines included) made one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cutStart is s cut to its last n runes, an ellipsis marking the cut.
func cutStart(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// cut is s cut to n runes, an ellipsis marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
