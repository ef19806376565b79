package llmparams

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// documentName stands in for a field path when a problem concerns the whole
// document, so that every line still starts with something a reader can find.
const documentName = "advanced_parameters"

// FieldError is one problem with one field. Callers that want to highlight
// fields (say, in a settings form) can pull them out with FieldErrors; everyone
// else can just print the error.
type FieldError struct {
	// Path is the field's location: "temperature", "reasoning.max_tokens",
	// "stop[2]", `logit_bias["50256"]`. It is empty when the problem is with
	// the document as a whole, such as malformed JSON.
	Path string
	line string
}

// Error returns the single, self-contained line describing the problem.
func (e *FieldError) Error() string { return e.line }

// FieldErrors flattens an error returned by Parse or Validate into its
// individual problems, in the order they were reported. It returns nil for
// errors that came from elsewhere.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// problems collects FieldErrors so that a caller sees all of them at once.
type problems struct{ errs []error }

// addf records "path: message".
func (c *problems) addf(path, format string, args ...any) {
	name := path
	if name == "" {
		name = documentName
	}
	c.addLine(path, name+": "+fmt.Sprintf(format, args...))
}

// addLine records a line that does not follow the "path: message" shape.
func (c *problems) addLine(path, line string) {
	// A line break would split one problem across lines and break the
	// "one problem per line" promise; the inputs that reach here are escaped
	// already, this is only a backstop.
	line = strings.ReplaceAll(line, "\n", " ")
	c.errs = append(c.errs, &FieldError{Path: path, line: line})
}

func (c *problems) err() error {
	switch len(c.errs) {
	case 0:
		return nil
	case 1:
		return c.errs[0]
	default:
		return errors.Join(c.errs...)
	}
}

// maxShown bounds how much of a user's value is echoed back, so a pasted
// essay in the wrong field does not turn into an essay-length error.
const maxShown = 60

// quote renders a user-supplied string for an error line: quoted so that
// empty and whitespace-only values are visible, escaped so it stays on one
// line, and truncated so it stays readable.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxShown {
		return fmt.Sprintf("%q", s)
	}
	r := []rune(s)
	return fmt.Sprintf("%q...", string(r[:maxShown]))
}

func clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	return s[:maxShown] + "..."
}

func quoteAll(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = quote(v)
	}
	return strings.Join(q, ", ")
}
