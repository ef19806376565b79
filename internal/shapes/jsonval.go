package shapes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// report collects the problems of one file.
type report struct {
	path string
	list []Problem
}

func (r *report) add(field, format string, args ...any) {
	// The inputs are quoted already; this is only a backstop for the
	// one-line promise.
	msg := lineBreaks.Replace(fmt.Sprintf(format, args...))
	// Fields can hold JSON keys from the file, which may contain anything.
	r.list = append(r.list, Problem{Path: r.path, Field: lineBreaks.Replace(field), Message: msg})
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// utf8BOM is stripped because editors on Windows add it and encoding/json
// rejects it, which would turn a perfectly good file into "not JSON".
var utf8BOM = []byte("\xef\xbb\xbf")

// decodeObject decodes a whole file that must be one JSON object. Problems
// with the file as a whole are reported with field "" and end with
// consequence ("personality not imported").
func decodeObject(r *report, data []byte, consequence string) (map[string]any, bool) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		r.add("", "empty file; %s", consequence)
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keeps 40.5 visible as 40.5 in an integer field
	var doc any
	if err := dec.Decode(&doc); err != nil {
		r.add("", "%s; %s", jsonErrText(err, len(data)), consequence)
		return nil, false
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		r.add("", "not JSON: more data after the value that ends at byte %d; %s", end, consequence)
		return nil, false
	}
	m, ok := doc.(map[string]any)
	if !ok {
		r.add("", "expected a JSON object, got %s; %s", describe(doc), consequence)
		return nil, false
	}
	return m, true
}

// jsonErrText tells a truncated file from one that was never JSON, because
// the fixes differ: re-export versus finding the right file.
func jsonErrText(err error, size int) string {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end")):
		return fmt.Sprintf("truncated: the JSON stops mid-value at byte %d", size)
	case errors.As(err, &se):
		return fmt.Sprintf("not JSON (%s at byte %d)", oneLine(strings.TrimPrefix(se.Error(), "json: ")), se.Offset)
	}
	return "not JSON (" + oneLine(strings.TrimPrefix(err.Error(), "json: ")) + ")"
}

// object reads fields of one decoded JSON object leniently: a missing key
// and null are both "absent" and never a problem; a wrong type is reported
// under prefix+key.
type object struct {
	m      map[string]any
	r      *report
	prefix string // e.g. "messages[3]." for entries of an array
}

func (o object) field(key string) string { return o.prefix + key }

// present reports whether key holds anything but null.
func (o object) present(key string) bool {
	v, ok := o.m[key]
	return ok && v != nil
}

// text reads a string. Numbers are converted (their digits are the text
// someone meant); other types are reported and ignored. NUL characters are
// removed because Postgres text cannot store them.
func (o object) text(key string) (string, bool) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return "", false
	}
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = string(v)
		o.r.add(o.field(key), "expected text, got the number %s; imported as %s", clip(s), quote(s))
	default:
		o.r.add(o.field(key), "expected text, got %s; ignored", describe(v))
		return "", false
	}
	if strings.ContainsRune(s, 0) {
		s = strings.ReplaceAll(s, "\x00", "")
		o.r.add(o.field(key), "contains NUL characters, which Postgres text cannot store; imported without them")
	}
	return s, true
}

// jsonNumber is the JSON number grammar. strconv.ParseFloat alone would
// also take "NaN", "Inf" and hex floats, which nobody writes for a
// temperature.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// number reads a finite number. A number written as text is converted and
// reported; other types are reported and ignored.
func (o object) number(key string) (float64, bool) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return 0, false
	}
	var lit string
	switch v := v.(type) {
	case json.Number:
		lit = string(v)
	case string:
		t := strings.TrimSpace(v)
		if !jsonNumber.MatchString(t) {
			o.r.add(o.field(key), "expected a number, got %s; ignored", quote(v))
			return 0, false
		}
		lit = t
		o.r.add(o.field(key), "expected a number, got the text %s; read as %s", quote(v), clip(t))
	default:
		o.r.add(o.field(key), "expected a number, got %s; ignored", describe(v))
		return 0, false
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		o.r.add(o.field(key), "%s is not a usable number; ignored", clip(lit))
		return 0, false
	}
	return f, true
}

// integer is number restricted to whole values that fit an int.
func (o object) integer(key string) (int, bool) {
	f, ok := o.number(key)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) {
		o.r.add(o.field(key), "expected a whole number, got %s; ignored", formatFloat(f))
		return 0, false
	}
	// Beyond 2^53 a float64 no longer holds every integer, so the value
	// read may not be the one written.
	if math.Abs(f) > 1<<53 {
		o.r.add(o.field(key), "%s is too large; ignored", formatFloat(f))
		return 0, false
	}
	return int(f), true
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// maxShown bounds how much of a value is echoed, so that a prompt pasted
// into the wrong field does not make an essay of a report line.
const maxShown = 60

// quote renders a value from the backup for a report line: quoted so empty
// and blank values are visible, escaped so it stays on one line, shortened
// so it stays readable.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxShown {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:maxShown])) + "..."
}

func clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	return s[:maxShown] + "..."
}

// describe names a decoded JSON value for "expected X, got Y".
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return "the number " + clip(string(v))
	case string:
		return "the text " + quote(v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
