package redact

import "net/url"

// Error returns err with every secret masked by [String], in its message and
// in every error it wraps. Go's HTTP client reports a failed request as a
// *url.Error quoting the whole URL — for a Discord webhook or interaction
// call, the token — and whatever later prints or serialises the error (a log
// line, Temporal's failure converter, which records each cause of the chain
// separately) would repeat it.
//
// An error holding no secret is returned as it is, so its type and chain are
// untouched. A *url.Error keeps its type (Op, Timeout and Temporary still
// answer), with the URL masked. Any other error holding a secret is replaced
// by one with the masked message that wraps the masked causes: errors.Is
// and errors.As still find the causes that held none (io.EOF, a
// context.DeadlineExceeded, a *net.OpError) but no longer the replaced one.
// Call it on a library's error before wrapping it in types of your own.
func Error(err error) error { return ErrorWithout(err, "") }

// ErrorWithout is [Error] with key also removed literally, as [Without]
// does: for a client that knows the key of its call, which may not look
// like any shape the rules know.
func ErrorWithout(err error, key string) error {
	if err == nil {
		return nil
	}
	if u, ok := err.(*url.Error); ok {
		masked, inner := Without(u.URL, key), ErrorWithout(u.Err, key)
		if masked == u.URL && inner == u.Err {
			return err
		}
		return &url.Error{Op: u.Op, URL: masked, Err: inner}
	}
	msg := err.Error()
	masked := Without(msg, key)
	changed := masked != msg
	var causes []error
	switch x := err.(type) {
	case interface{ Unwrap() error }:
		c := x.Unwrap()
		rc := ErrorWithout(c, key)
		changed = changed || rc != c
		causes = []error{rc}
	case interface{ Unwrap() []error }:
		for _, c := range x.Unwrap() {
			rc := ErrorWithout(c, key)
			changed = changed || rc != c
			causes = append(causes, rc)
		}
	}
	if !changed {
		return err
	}
	if len(causes) > 1 {
		return &maskedJoin{msg: masked, causes: causes}
	}
	var cause error
	if len(causes) == 1 {
		cause = causes[0]
	}
	return &maskedError{msg: masked, cause: cause}
}

// maskedError stands for an error whose message, or a cause's, held a
// secret: the masked message, wrapping the masked cause (nil for none). It
// has the single-cause Unwrap that errors.Unwrap — and so Temporal's
// failure converter — follows.
type maskedError struct {
	msg   string
	cause error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.cause }

// maskedJoin is maskedError for errors with several causes (errors.Join).
type maskedJoin struct {
	msg    string
	causes []error
}

func (e *maskedJoin) Error() string   { return e.msg }
func (e *maskedJoin) Unwrap() []error { return e.causes }
