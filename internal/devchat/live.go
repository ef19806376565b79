package devchat

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chzyer/readline"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// A streamed reply reaches Discord as a post and then edits of it while the
// model writes (activities.StreamWriter, about one edit a second). The chat
// shows such a message growing on a terminal, redrawn in place, and once,
// whole, in a script, so a transcript reads as before.

// settleAfter is how long a script's held messages must be unchanged to
// be printed before their line's workflows are known to have ended (a
// workflow the line started later than waitForLine looked): longer than
// a stream's edit interval (activities.DefaultEditInterval, 1.2 s) with
// room for a rate-limit wait.
const settleAfter = 3 * time.Second

// maxRedrawRows is the tallest block redrawn in place: the cursor cannot
// move above the top of the screen, and terminals have at least 24 rows.
// A message that grows taller continues in a block below.
const maxRedrawRows = 20

// mayStream reports whether m can be a streamed reply: a post in a channel
// or a DM by a webhook or the bot, not an answer to an interaction (whose
// edits are its deferred answer or a pressed button) and not ephemeral.
func mayStream(m fakediscord.Message, appID string) bool {
	return !m.Ephemeral() && (m.WebhookID == "" || m.WebhookID != appID)
}

// screen decides what the chat prints for each message it is shown. It
// holds no lock: the chat calls it under its own.
type screen struct {
	// terminal is set when the output is a person's terminal (ANSI cursor
	// movement works); otherwise growing messages are held until flush.
	terminal bool
	// cols is the terminal's width in columns.
	cols func() int

	// Script: the growing messages not yet printed, in order of their
	// first post, and what was printed of each (for "(edited)").
	held    []heldMessage
	printed map[string]string
	changed time.Time // when a held message last changed

	// Terminal: the message the last printed block shows ("" when the
	// last block was anything else) and the rows that block takes; per
	// growing message, the text on screen and the part of it printed
	// above its latest block (which shows only what follows: the message
	// grew after other output).
	lastID   string
	lastRows int
	shown    map[string]string
	base     map[string]string
}

type heldMessage struct {
	id, channelID, label, body string
}

func newScreen(terminal bool, cols func() int) *screen {
	return &screen{terminal: terminal, cols: cols, printed: map[string]string{},
		shown: map[string]string{}, base: map[string]string{}}
}

// message is what to print for a message shown as label and body (its
// rendered text, one or more lines), "" for nothing now. live is mayStream;
// edited says the chat has shown an earlier text of it.
func (s *screen) message(id, channelID, label, body string, edited, live bool) string {
	if !live {
		if edited {
			label += " (edited)"
		}
		return s.block(label, body)
	}
	if !s.terminal {
		s.changed = time.Now()
		for i := range s.held {
			if s.held[i].id == id {
				s.held[i].label, s.held[i].body = label, body
				return ""
			}
		}
		s.held = append(s.held, heldMessage{id: id, channelID: channelID, label: label, body: body})
		return ""
	}
	shown, seen := s.shown[id]
	base := s.base[id]
	var out string
	switch {
	case !seen:
		base, out = "", s.grown(id, label, "", body)
	case s.lastID == id && strings.HasPrefix(body, base) && s.rows(s.blockAfter(label, base, body)) <= maxRedrawRows:
		// Nothing printed since its block: redraw the block in place. The
		// cursor is at the start of the line below it (readline has just
		// cleared its prompt there).
		rows := s.lastRows
		out = fmt.Sprintf("\x1b[%dA\r\x1b[J", rows) + s.grown(id, label, base, body)
	case shown != "" && strings.HasPrefix(body, shown):
		// It grew after other output: show only what is new, on a block
		// of its own that further growth redraws.
		base, out = shown, s.grown(id, label, shown, body)
	default:
		// Changed earlier text (a retry's answer, a cut that moved): the
		// whole of it again.
		base, out = "", s.grown(id, label+" (edited)", "", body)
	}
	s.shown[id], s.base[id] = body, base
	return out
}

// grown is the block of message id showing body after the text printed
// above it (base); the block becomes the last.
func (s *screen) grown(id, label, base, body string) string {
	out := s.blockAfter(label, base, body)
	s.lastID, s.lastRows = id, s.rows(out)
	return out
}

// blockAfter is the block showing body after base (see grown).
func (s *screen) blockAfter(label, base, body string) string {
	if base == "" {
		return compose(label, body)
	}
	return compose(label+" (continued)", "…"+strings.TrimPrefix(body, base))
}

// block is one printed block (compose) that shows no growing message.
func (s *screen) block(label, text string) string {
	s.lastID = ""
	return compose(label, text)
}

// compose is one printed block: the label, then the text with its further
// lines indented, ending in a line break.
func compose(label, text string) string {
	return label + " " + strings.ReplaceAll(text, "\n", "\n    ") + "\n"
}

// other notes a block printed by the chat itself, or a line the user
// typed: the last block is no longer a message's.
func (s *screen) other() { s.lastID = "" }

// flush prints the held messages, each once with its latest text; one
// deleted by now (a streamed reply's retry deletes the messages past its
// shorter answer) is dropped.
func (s *screen) flush(deleted func(id string) bool) string {
	var sb strings.Builder
	for _, h := range s.held {
		if deleted(h.id) {
			continue
		}
		prev, seen := s.printed[h.id]
		if seen && prev == h.body {
			continue
		}
		label := h.label
		if seen {
			label += " (edited)"
		}
		s.printed[h.id] = h.body
		sb.WriteString(s.block(label, h.body))
	}
	s.held = s.held[:0]
	return sb.String()
}

// settled reports whether messages are held and none changed for d.
func (s *screen) settled(now time.Time, d time.Duration) bool {
	return len(s.held) > 0 && now.Sub(s.changed) >= d
}

// heldChannels are the channels of the held messages.
func (s *screen) heldChannels() []string {
	var out []string
	for _, h := range s.held {
		if !slices.Contains(out, h.channelID) {
			out = append(out, h.channelID)
		}
	}
	return out
}

// rows is how many terminal rows block takes at s.cols columns, each line
// wrapping at the edge (wide runes count two).
func (s *screen) rows(block string) int {
	cols := 80
	if s.cols != nil {
		if c := s.cols(); c > 0 {
			cols = c
		}
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
		w := readline.Runes{}.WidthAll([]rune(line))
		n += max(1, (w+cols-1)/cols)
	}
	return n
}
