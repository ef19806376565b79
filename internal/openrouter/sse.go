package openrouter

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// sseReader reads the events of a server-sent event stream as the HTML
// standard interprets one
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
// lines end in LF, CRLF or a lone CR; a line starting with ":" is a comment
// (OpenRouter's ": OPENROUTER PROCESSING" keep-alive); "data" fields are
// joined with "\n"; a blank line dispatches the event; an event with no data
// is dropped; and an event the stream ends in the middle of is discarded.
// The event, id and retry fields mean nothing to a chat completion and are
// skipped.
type sseReader struct {
	sc      *bufio.Scanner
	started bool
}

// maxSSELine bounds one line: a generated image arrives as one data line
// holding a base64 data URL of a few MiB.
const maxSSELine = maxResponseBody

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxSSELine)
	sc.Split(scanSSELines)
	return &sseReader{sc: sc}
}

// next returns the data of the next event, or io.EOF once the stream ended
// (an unfinished last event is discarded), or the read error.
func (s *sseReader) next() ([]byte, error) {
	var data []byte
	hasData := false
	for s.sc.Scan() {
		line := s.sc.Bytes()
		if !s.started {
			s.started = true
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(line) == 0 {
			if hasData {
				return data, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte(":"))
		if found {
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		if string(field) != "data" {
			continue
		}
		if hasData {
			data = append(data, '\n')
		}
		data = append(data, value...)
		hasData = true
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, errResponseTooLarge
		}
		return nil, err
	}
	return nil, io.EOF
}

// scanSSELines is bufio.ScanLines for the three line endings of an event
// stream. A CR at the end of the data read so far waits for the next byte,
// which may be the LF of a CRLF. The last line, unterminated, is returned
// at EOF; next discards it anyway unless a blank line follows.
func scanSSELines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil
	}
	if atEOF {
		// An unterminated last line ends no event: say so by returning
		// it without the blank line that would dispatch it.
		return len(data), data, nil
	}
	return 0, nil, nil
}
