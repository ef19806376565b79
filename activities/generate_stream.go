package activities

// The streamed reply: Generate's model call through ChatStream, its visible
// text fed to a StreamWriter as it arrives, the writer's Progress
// heartbeated so a retry continues the same messages, and DiscardStream for
// a reply that ends without the streamed text.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/heartbeat"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/reasoning"
)

// streamsReplies says whether p's replies are streamed: the one place the
// per-personality switch (`/config personality streaming:…`, the column
// personalities.streaming, true unless switched off) is read, from the row
// ResolvePersonality already loaded (Activities.StreamsReplies overrides it).
func (a *Activities) streamsReplies(p *ent.Personality) bool {
	if a.StreamsReplies != nil {
		return a.StreamsReplies(p)
	}
	return p != nil && p.Streaming
}

// resumeStream is the writer of a streamed reply to to, continuing what any
// earlier attempt of this activity posted: every part recorded in the
// deliveries and a post begun but never recorded, found in the channel
// (StreamWriter.Resume). Not the last heartbeat's Progress: the SDK sends
// heartbeats to the server at most once per 0.8 × HeartbeatTimeout, so the
// server's may be seconds older than the killed attempt's last post, and a
// retry shorter than that would leave the posts after it beside the reply.
// Every change of Progress is heartbeated (for the Web UI's pending
// activity and liveness). Errors are Discord's or the database's.
func (a *Activities) resumeStream(ctx context.Context, to StreamTarget) (*StreamWriter, error) {
	w := NewStreamWriter(a, to, Progress{})
	if err := w.Resume(ctx); err != nil {
		return nil, err
	}
	w.OnProgress = func(p Progress) { activity.RecordHeartbeat(ctx, p) }
	return w, nil
}

// chatStreaming calls the model with ChatStream and shows its visible text
// through w as it arrives. It heartbeats w's Progress throughout, so a dead
// worker is noticed within the heartbeat timeout and its retry continues the
// same messages. A Discord failure while streaming stops the updates, not
// the call (the call is being paid for): Finish writes the text later, or
// the workflow posts it whole. The result and errors are ChatStream's.
func (a *Activities) chatStreaming(ctx context.Context, key string, req openrouter.ChatRequest, w *StreamWriter) (resp openrouter.ChatResponse, err error) {
	// The writer is used by the stream's callback only; the periodic
	// heartbeat reads the latest Progress it handed out.
	var latest atomic.Pointer[Progress]
	first := w.Progress()
	latest.Store(&first)
	onProgress := w.OnProgress
	w.OnProgress = func(p Progress) {
		latest.Store(&p)
		if onProgress != nil {
			onProgress(p)
		}
	}
	activity.RecordHeartbeat(ctx, first)
	var (
		text    strings.Builder
		stopped bool
	)
	err = heartbeat.While(ctx, func() error {
		resp, err = a.OpenRouter.ChatStream(ctx, key, req, func(d openrouter.Delta) error {
			if d.Content == "" || stopped {
				return nil
			}
			text.WriteString(d.Content)
			if !w.due(time.Now()) { // not to re-split the whole text every token
				return nil
			}
			if uerr := w.Update(ctx, visibleSoFar(text.String())); uerr != nil && ctx.Err() == nil {
				a.Log.Warn("streamed reply not updated; the whole text is written at the end", "error", uerr)
				stopped = true
			}
			return nil
		})
		return err
	}, liveProgress(latest.Load))
	return resp, err
}

// liveProgress is the writer's latest Progress, read when it is encoded (as
// JSON, Temporal's default payload converter): heartbeat.While records the
// value it was given at each beat, and the SDK encodes it then.
type liveProgress func() *Progress

// MarshalJSON encodes the Progress as of now.
func (p liveProgress) MarshalJSON() ([]byte, error) { return json.Marshal(p()) }

// visibleSoFar is the part of a growing reply that may be shown: reasoning
// removed as reasoning.Split removes it from a whole reply, and a tag still
// being written at the end ("<thi") held back until it is complete, so no
// markup flashes in Discord. A closing tag with no opening one (reasoning
// opened by the prompt template) can only be recognised when it arrives:
// the text before it shows until then, and the next edit removes it.
func visibleSoFar(text string) string {
	visible, _ := reasoning.Split(text)
	if i := strings.LastIndexByte(visible, '<'); i >= 0 && partialTag(visible[i+1:]) {
		visible = strings.TrimSpace(visible[:i])
	}
	return visible
}

// partialTag reports whether s, what follows a final "<", may still become
// a reasoning tag: an optional "/" and up to ten letters ("reflection" is the
// longest name), nothing else.
func partialTag(s string) bool {
	s = strings.TrimPrefix(s, "/")
	if len(s) > len("reflection") {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// finishStream writes the whole visible reply into the streamed messages and
// returns the first one's id. A failure is logged and "" returned: the call
// is paid for and must not be repeated, so the workflow discards the
// messages and posts the reply whole instead.
func (a *Activities) finishStream(ctx context.Context, w *StreamWriter, text string) string {
	ids, err := w.Finish(ctx, text)
	if err != nil || len(ids) == 0 {
		a.Log.Warn("streamed reply not finished; the workflow posts it whole", "error", err)
		return ""
	}
	return ids[0]
}

// classifyStreamError is classifyCallError for a streamed call. A 401 or 402
// that arrives after the 200 (an error chunk) is read like the same status
// before the stream, as the key's trouble only when GET /key agrees: a key
// it refuses (401) or finds without credits (402) is the user's to fix;
// otherwise it was the upstream's, and the call is retried.
func (a *Activities) classifyStreamError(ctx context.Context, err error, key, source string) error {
	oe, ok := openrouter.AsError(err)
	if !ok || oe.Kind != openrouter.KindTransient || (oe.Status != http.StatusUnauthorized && oe.Status != http.StatusPaymentRequired) {
		return a.classifyCallError(ctx, err, key, source)
	}
	_, cerr := a.OpenRouter.CheckKey(ctx, key)
	if ce, ok := openrouter.AsError(cerr); ok && (ce.Kind == openrouter.KindInvalidKey || ce.Kind == openrouter.KindNoCredits) {
		return a.classifyCallError(ctx, ce, key, source)
	}
	return a.classifyCallError(ctx, err, key, source)
}

// DiscardStreamInput names a streamed reply's messages: those posted under
// its delivery key, part by part.
type DiscardStreamInput struct {
	Target StreamTarget `json:"target"`
}

// DiscardStream deletes the messages a streamed reply posted (found by their
// delivery rows, read back for the webhook that posted them, and a post
// begun but never recorded found in the channel: findPosted) and forgets
// their deliveries: the workflow runs it when the reply ends without its
// streamed text (a failure after retries, a text Finish could not write),
// so no half reply stays beside what it posts instead. A reply that posted
// nothing costs one database read. Errors are Discord's or the database's.
func (a *Activities) DiscardStream(ctx context.Context, in DiscardStreamInput) error {
	if _, err := a.rewriteStream(ctx, in.Target, ""); err != nil {
		return KeepType(fmt.Errorf("discard the streamed reply: %w", err))
	}
	return nil
}

// RewriteStreamInput is a finished streamed reply and the text its messages
// are to hold instead.
type RewriteStreamInput struct {
	Target  StreamTarget `json:"target"`
	Content string       `json:"content"`
}

// RewriteStream writes Content into a finished streamed reply's messages,
// as Finish would have: parts whose text is unchanged are not touched, a
// changed part is edited, a part past the last message is posted under the
// next part's delivery key, messages past the last part are deleted. The
// workflow runs it to add a line under a reply after it streamed (why it
// has no voice). It returns the first message's id ("" for an empty
// Content). Idempotent: a retry finds the parts already written. Errors
// are Discord's or the database's.
func (a *Activities) RewriteStream(ctx context.Context, in RewriteStreamInput) (string, error) {
	ids, err := a.rewriteStream(ctx, in.Target, in.Content)
	if err != nil {
		return "", KeepType(fmt.Errorf("rewrite the streamed reply: %w", err))
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// rewriteStream finishes the streamed reply to `to` with text
// (StreamWriter.Finish), the writer rebuilt by Resume: the delivery rows of
// its parts, each message read back for the webhook that posted it and what
// it holds (one indexed read per part, and one more), and a last part posted
// but never recorded found in the channel. A part whose message was deleted
// since, and the parts after it, are posted again in order.
func (a *Activities) rewriteStream(ctx context.Context, to StreamTarget, text string) ([]string, error) {
	if to.DeliveryKey == "" || to.ChannelID == "" {
		return nil, badInput("target.delivery_key and target.channel_id are required")
	}
	w := NewStreamWriter(a, to, Progress{})
	if err := w.Resume(ctx); err != nil {
		return nil, err
	}
	return w.Finish(ctx, text)
}
