package openrouter

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// events reads every event of body, one byte per read so every line is
// split across reads, and the error that ended the stream.
func events(body string) ([]string, error) {
	sr := newSSEReader(iotest.OneByteReader(strings.NewReader(body)))
	var out []string
	for {
		data, err := sr.next()
		if err != nil {
			return out, err
		}
		out = append(out, string(data))
	}
}

func TestSSEReaderFraming(t *testing.T) {
	cases := []struct {
		name string
		body string
		want []string
	}{
		{"OpenRouter's shape", ": OPENROUTER PROCESSING\n\ndata: {\"a\":1}\n\n: OPENROUTER PROCESSING\n\ndata: [DONE]\n\n",
			[]string{`{"a":1}`, "[DONE]"}},
		{"CRLF line endings", "data: x\r\n\r\ndata: y\r\n\r\n", []string{"x", "y"}},
		{"lone CR line endings", "data: x\r\rdata: y\r\r", []string{"x", "y"}},
		{"multi-line data joined by LF", "data: {\"a\":\ndata: 1}\n\n", []string{"{\"a\":\n1}"}},
		{"no space after the colon", "data:x\n\n", []string{"x"}},
		{"only one leading space removed", "data:  x\n\n", []string{" x"}},
		{"a field without a colon", "data\n\n", []string{""}},
		{"event, id and retry fields skipped", "event: message\nid: 7\nretry: 100\ndata: x\n\n", []string{"x"}},
		{"an event without data is dropped", "event: ping\n\ndata: x\n\n", []string{"x"}},
		{"blank lines between events", "\n\n\ndata: x\n\n\n\n", []string{"x"}},
		{"a BOM at the start", "\uFEFFdata: x\n\n", []string{"x"}},
		{"an unfinished last event is discarded", "data: x\n\ndata: {\"trunc", []string{"x"}},
		{"an unterminated last event is discarded", "data: x\n\ndata: y\n", []string{"x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := events(tc.body)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want EOF", err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	sr := newSSEReader(io.MultiReader(strings.NewReader("data: x\n\n"), iotest.ErrReader(boom)))
	if data, err := sr.next(); err != nil || string(data) != "x" {
		t.Fatalf("first event = %q, %v", data, err)
	}
	if _, err := sr.next(); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the read error", err)
	}
}

func TestSSEReaderLineTooLong(t *testing.T) {
	sr := newSSEReader(&limitedBody{r: strings.NewReader("data: " + strings.Repeat("x", 100)), left: 50})
	if _, err := sr.next(); !errors.Is(err, errResponseTooLarge) {
		t.Errorf("err = %v, want errResponseTooLarge", err)
	}
}
