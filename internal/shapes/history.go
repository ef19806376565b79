package shapes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Timestamps outside this window are not shapes.inc conversations: zero,
// negative or millisecond values misread as seconds all land outside it.
var (
	earliestTurn = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	latestTurn   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseHistory reads one <slug>_chat_history.json held in memory. shapeID is
// the owning personality's id ("" when unknown), used to refuse another
// shape's history, which would put words in the wrong mouth. Turns are
// sorted by time (stably, so each exchange stays user-then-assistant).
func parseHistory(path, shapeID string, data []byte) ([]Turn, []Problem) {
	var turns []Turn
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	problems, _ := streamHistory(path, shapeID, open, func(t Turn) error {
		turns = append(turns, t)
		return nil
	})
	slices.SortStableFunc(turns, func(a, b Turn) int { return a.At.Compare(b.At) })
	return turns, problems
}

// StreamHistory reads p's chat history file (p.HistoryPath under root) and
// calls emit for every turn, in file order (an exchange's user turn before
// its assistant turn), without holding the file in memory: the file is read
// twice with a json.Decoder, once token by token to check that it is one
// whole JSON object belonging to p (a truncated file or another shape's
// history emits nothing), then exchange by exchange. Memory is bounded by
// the largest single exchange, whatever the file's size.
//
// The problems are those Load reports for the same file. The error is emit's
// error, or an I/O error on the second read (say the file changed between
// the reads); a file that cannot be opened at all is a problem, not an error.
// A personality without a history file emits nothing.
func StreamHistory(root string, p Personality, emit func(Turn) error) ([]Problem, error) {
	if p.HistoryPath == "" {
		return nil, nil
	}
	full := filepath.Join(root, filepath.FromSlash(p.HistoryPath))
	if _, err := os.Stat(full); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return []Problem{{p.HistoryPath, "", readErrText(err) + "; history not imported"}}, nil
	}
	return streamHistory(p.HistoryPath, p.ShapeID, func() (io.ReadCloser, error) { return os.Open(full) }, emit)
}

const historyNotImported = "history not imported"

// streamHistory is StreamHistory over any source that can be opened twice.
func streamHistory(path, shapeID string, open func() (io.ReadCloser, error), emit func(Turn) error) ([]Problem, error) {
	r := &report{path: path}
	f, err := open()
	if err != nil {
		r.add("", "%s; %s", readErrText(err), historyNotImported)
		return r.list, nil
	}
	sc, ok := scanHistory(r, f)
	f.Close()
	if !ok {
		return r.list, nil
	}
	top := object{m: map[string]any{}, r: r}
	if sc.hasShapeID {
		top.m["shape_id"] = sc.shapeID
	}
	if owner := trimmed(top, "shape_id"); owner != "" && shapeID != "" && owner != shapeID {
		r.add("shape_id", "belongs to shape %s, not to this personality (%s); %s", quote(owner), quote(shapeID), historyNotImported)
		return r.list, nil
	}
	if sc.messages == 0 || sc.messagesFirst == nil {
		return r.list, nil
	}
	if sc.messagesFirst != json.Delim('[') {
		what := describe(sc.messagesFirst)
		if sc.messagesFirst == json.Delim('{') {
			what = describe(map[string]any{})
		}
		r.add("messages", "expected an array, got %s; %s", what, historyNotImported)
		return r.list, nil
	}

	f, err = open()
	if err != nil {
		return r.list, fmt.Errorf("reopen %s: %w", path, err)
	}
	defer f.Close()
	dec := json.NewDecoder(skipBOM(f))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return r.list, fmt.Errorf("%s changed while it was read: %w", path, err)
	}
	seen := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return r.list, fmt.Errorf("%s changed while it was read: %w", path, err)
		}
		if key, _ := tok.(string); key == "messages" {
			// Like encoding/json, the last of repeated keys wins.
			if seen++; seen == sc.messages {
				return r.list, emitExchanges(r, dec, emit)
			}
		}
		first, err := dec.Token()
		if err == nil {
			err = skipValue(dec, first)
		}
		if err != nil {
			return r.list, fmt.Errorf("%s changed while it was read: %w", path, err)
		}
	}
	return r.list, fmt.Errorf("%s changed while it was read: its messages are gone", path)
}

// emitExchanges reads the messages array the decoder stands before, one
// exchange at a time.
func emitExchanges(r *report, dec *json.Decoder, emit func(Turn) error) error {
	if _, err := dec.Token(); err != nil { // '['
		return err
	}
	for i := 0; dec.More(); i++ {
		var m any
		if err := dec.Decode(&m); err != nil {
			return err
		}
		for _, t := range exchangeTurns(r, i, m) {
			if err := emit(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// exchangeTurns maps messages[i] to its turns, reporting what is wrong.
func exchangeTurns(r *report, i int, m any) []Turn {
	prefix := fmt.Sprintf("messages[%d]", i)
	entry, isObject := m.(map[string]any)
	if !isObject {
		r.add(prefix, "expected an object, got %s; exchange skipped", describe(m))
		return nil
	}
	e := object{m: entry, r: r, prefix: prefix + "."}
	msg, _ := e.text("message")
	reply, _ := e.text("reply")
	if strings.TrimSpace(msg) == "" && strings.TrimSpace(reply) == "" {
		return nil // nothing said, nothing to place in time
	}
	at, ok := readTime(e, "ts")
	if !ok {
		return nil
	}
	var turns []Turn
	if strings.TrimSpace(msg) != "" {
		turns = append(turns, Turn{Role: RoleUser, Content: msg, At: at})
	}
	if strings.TrimSpace(reply) != "" {
		turns = append(turns, Turn{Role: RoleAssistant, Content: reply, At: at})
	}
	return turns
}

// historyScan is what the first, token-by-token read of a history file found.
type historyScan struct {
	hasShapeID    bool
	shapeID       any        // the last top-level shape_id, decoded
	messages      int        // how many top-level "messages" keys there are
	messagesFirst json.Token // the first token of the last one's value
}

// scanHistory checks that the file is exactly one JSON object, reporting it
// as decodeObject would otherwise, and notes its shape_id and messages.
func scanHistory(r *report, rd io.Reader) (historyScan, bool) {
	var sc historyScan
	cr := &countingReader{r: skipBOM(rd)}
	dec := json.NewDecoder(cr)
	dec.UseNumber()
	fail := func(err error) (historyScan, bool) {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // EOF inside a value is a truncation
		}
		_, _ = io.Copy(io.Discard, cr)
		r.add("", "%s; %s", jsonErrText(err, int(cr.n)), historyNotImported)
		return sc, false
	}
	first, err := dec.Token()
	if err == io.EOF {
		r.add("", "empty file; %s", historyNotImported)
		return sc, false
	}
	if err != nil {
		return fail(err)
	}
	if first == json.Delim('{') {
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			switch key, _ := tok.(string); key {
			case "shape_id":
				var v any
				if err := dec.Decode(&v); err != nil {
					return fail(err)
				}
				sc.hasShapeID, sc.shapeID = true, v
				continue
			case "messages":
				sc.messages++
			}
			v, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			if key, _ := tok.(string); key == "messages" {
				sc.messagesFirst = v
			}
			if err := skipValue(dec, v); err != nil {
				return fail(err)
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return fail(err)
		}
	} else if err := skipValue(dec, first); err != nil {
		return fail(err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		r.add("", "not JSON: more data after the value that ends at byte %d; %s", end, historyNotImported)
		return sc, false
	}
	if first != json.Delim('{') {
		what := describe(first)
		if first == json.Delim('[') {
			what = describe([]any{})
		}
		r.add("", "expected a JSON object, got %s; %s", what, historyNotImported)
		return sc, false
	}
	return sc, true
}

// skipValue reads the rest of the value whose first token is first.
func skipValue(dec *json.Decoder, first json.Token) error {
	if first != json.Delim('{') && first != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// skipBOM drops a leading UTF-8 byte order mark, as decodeObject does.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	return br
}

// readTime reads unix seconds (fractions allowed), also when written as
// text, or an RFC 3339 time; these are all unambiguous, so none of them is
// reported. Anything else skips the exchange.
func readTime(o object, key string) (time.Time, bool) {
	const skipped = "exchange skipped"
	v, ok := o.m[key]
	if !ok || v == nil {
		o.r.add(o.field(key), "missing; %s", skipped)
		return time.Time{}, false
	}
	var lit string
	switch v := v.(type) {
	case json.Number:
		lit = string(v)
	case string:
		s := strings.TrimSpace(v)
		if !jsonNumber.MatchString(s) {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				o.r.add(o.field(key), "%s is not a unix time or an RFC 3339 time; %s", quote(v), skipped)
				return time.Time{}, false
			}
			return checkTurnTime(o, key, quote(v), t.UTC())
		}
		lit = s
	default:
		o.r.add(o.field(key), "expected a unix time, got %s; %s", describe(v), skipped)
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) ||
		f < float64(earliestTurn.Unix()) || f >= float64(latestTurn.Unix()) {
		o.r.add(o.field(key), "%s is not a plausible unix time in seconds (2000 to 2099); %s", clip(lit), skipped)
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true
}

func checkTurnTime(o object, key, shown string, t time.Time) (time.Time, bool) {
	if t.Before(earliestTurn) || !t.Before(latestTurn) {
		o.r.add(o.field(key), "%s is not a plausible time (2000 to 2099); exchange skipped", shown)
		return time.Time{}, false
	}
	return t, true
}
