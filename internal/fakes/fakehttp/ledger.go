package fakehttp

import (
	"slices"
	"sync"
)

// Scripts holds, per API key, the queue of scripted steps a fake answers
// with before it behaves normally again. It is safe for concurrent use; the
// zero value has no steps.
type Scripts[S any] struct {
	mu sync.Mutex
	q  map[string][]S
}

// Add appends steps to key's queue.
func (s *Scripts[S]) Add(key string, steps ...S) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.q == nil {
		s.q = make(map[string][]S)
	}
	s.q[key] = append(s.q[key], steps...)
}

// Next removes and returns the first step of key's queue; ok is false when
// the queue is empty.
func (s *Scripts[S]) Next(key string) (step S, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.q[key]
	if len(q) == 0 {
		return step, false
	}
	if len(q) == 1 {
		delete(s.q, key)
	} else {
		s.q[key] = q[1:]
	}
	return q[0], true
}

// Reset drops every pending step.
func (s *Scripts[S]) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.q = nil
}

// Log records the calls a fake answered, in the order it answered them. It
// is safe for concurrent use; the zero value is empty.
type Log[C any] struct {
	mu    sync.Mutex
	calls []C
}

// Record appends c.
func (l *Log[C]) Record(c C) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// All returns a copy of every recorded call.
func (l *Log[C]) All() []C {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// Where returns the recorded calls keep accepts, in order.
func (l *Log[C]) Where(keep func(C) bool) []C {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []C
	for _, c := range l.calls {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets every recorded call.
func (l *Log[C]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

// Keys is a stand-in's registry of API keys and their state K. The
// stand-in's own lock guards it, with the rest of its state.
type Keys[K any] map[string]*K

// Revoke applies mark (which flags the state revoked) to key's state,
// registering key first when it is unknown: a key deleted on the provider's
// site is refused from then on, whether the stand-in knew it or not.
func (k Keys[K]) Revoke(key string, mark func(*K)) {
	ks, ok := k[key]
	if !ok {
		ks = new(K)
		k[key] = ks
	}
	mark(ks)
}
