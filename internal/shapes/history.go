package shapes

import (
	"encoding/json"
	"fmt"
	"math"
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

// parseHistory reads one <slug>_chat_history.json. shapeID is the owning
// personality's id ("" when unknown), used to refuse another shape's
// history, which would put words in the wrong mouth.
func parseHistory(path, shapeID string, data []byte) ([]Turn, []Problem) {
	r := &report{path: path}
	doc, ok := decodeObject(r, data, "history not imported")
	if !ok {
		return nil, r.list
	}
	o := object{m: doc, r: r}
	if owner := trimmed(o, "shape_id"); owner != "" && shapeID != "" && owner != shapeID {
		r.add("shape_id", "belongs to shape %s, not to this personality (%s); history not imported", quote(owner), quote(shapeID))
		return nil, r.list
	}
	raw, present := doc["messages"]
	if !present || raw == nil {
		return nil, r.list
	}
	msgs, isArray := raw.([]any)
	if !isArray {
		r.add("messages", "expected an array, got %s; history not imported", describe(raw))
		return nil, r.list
	}

	var turns []Turn
	for i, m := range msgs {
		prefix := fmt.Sprintf("messages[%d]", i)
		entry, isObject := m.(map[string]any)
		if !isObject {
			r.add(prefix, "expected an object, got %s; exchange skipped", describe(m))
			continue
		}
		e := object{m: entry, r: r, prefix: prefix + "."}
		msg, _ := e.text("message")
		reply, _ := e.text("reply")
		if strings.TrimSpace(msg) == "" && strings.TrimSpace(reply) == "" {
			continue // nothing said, nothing to place in time
		}
		at, ok := readTime(e, "ts")
		if !ok {
			continue
		}
		if strings.TrimSpace(msg) != "" {
			turns = append(turns, Turn{Role: RoleUser, Content: msg, At: at})
		}
		if strings.TrimSpace(reply) != "" {
			turns = append(turns, Turn{Role: RoleAssistant, Content: reply, At: at})
		}
	}
	// Stable, so each exchange stays user-then-assistant at its shared time.
	slices.SortStableFunc(turns, func(a, b Turn) int { return a.At.Compare(b.At) })
	return turns, r.list
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
