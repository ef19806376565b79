// Package limits resolves a personality's context limits: how many
// referenced messages, mentions, channels and roles one reply may pull into
// its prompt, how much history and how many long-term memories it sees. Each
// limit is the personality's own value from llm_configs when set, else the
// system default below.
//
// The limits exist to bound prompt size and the Discord and database work
// done per message, so an out-of-range value is an error rather than
// something to pass on: a personality set to 5000 referenced messages would
// otherwise fetch them.
package limits

import (
	"errors"
	"fmt"
)

// System defaults, used for every limit a personality leaves unset.
const (
	// DefaultMaxReferencedMessages covers a reply chain plus a few linked
	// messages without letting one message drag a whole thread in.
	DefaultMaxReferencedMessages = 10

	// DefaultMaxMentionsPerMessage: each resolved mention adds that user's
	// persona to the prompt, and a message mentioning more than a handful
	// of people is usually a ping, not a conversation.
	DefaultMaxMentionsPerMessage = 5

	// DefaultMaxChannelsPerMessage: each channel mention costs a Discord
	// lookup per message.
	DefaultMaxChannelsPerMessage = 5

	// DefaultMaxRolesPerMessage: same reasoning as channels.
	DefaultMaxRolesPerMessage = 5

	// DefaultLTMSearchHistoryTurns: the long-term-memory query includes the
	// last few turns so that "what about the other one?" finds something,
	// but not so many that the query stops being about the current message.
	DefaultLTMSearchHistoryTurns = 3

	// DefaultMaxConversationHistory matches the legacy column's database
	// default, so personalities that never set it behave as they always have.
	DefaultMaxConversationHistory = 50

	// DefaultMemoryLimit matches the legacy memory_limit column's database
	// default, for the same reason.
	DefaultMemoryLimit = 20
)

// Overrides are the limit columns as read from llm_configs; nil means the
// personality did not set that limit.
type Overrides struct {
	MaxReferencedMessages  *int
	MaxMentionsPerMessage  *int
	MaxChannelsPerMessage  *int
	MaxRolesPerMessage     *int
	LTMSearchHistoryTurns  *int
	MaxConversationHistory *int
	MemoryLimit            *int
}

// Limits are the values in force for one personality.
type Limits struct {
	MaxReferencedMessages  int
	MaxMentionsPerMessage  int
	MaxChannelsPerMessage  int
	MaxRolesPerMessage     int
	LTMSearchHistoryTurns  int
	MaxConversationHistory int
	MemoryLimit            int
}

// spec is one limit. Keeping all of them in one table means a new limit is
// one line here, with no chance of Resolve and Validate disagreeing.
type spec struct {
	column   string // the llm_configs column, which is also the name users see
	min, max int
	def      int
	override func(*Overrides) *int
	value    func(*Limits) *int
}

var specs = []spec{
	{"max_referenced_messages", 1, 50, DefaultMaxReferencedMessages,
		func(o *Overrides) *int { return o.MaxReferencedMessages }, func(l *Limits) *int { return &l.MaxReferencedMessages }},
	{"max_mentions_per_message", 1, 50, DefaultMaxMentionsPerMessage,
		func(o *Overrides) *int { return o.MaxMentionsPerMessage }, func(l *Limits) *int { return &l.MaxMentionsPerMessage }},
	{"max_channels_per_message", 1, 20, DefaultMaxChannelsPerMessage,
		func(o *Overrides) *int { return o.MaxChannelsPerMessage }, func(l *Limits) *int { return &l.MaxChannelsPerMessage }},
	{"max_roles_per_message", 1, 20, DefaultMaxRolesPerMessage,
		func(o *Overrides) *int { return o.MaxRolesPerMessage }, func(l *Limits) *int { return &l.MaxRolesPerMessage }},
	// 0 is allowed: it makes the memory search look at the current message
	// alone.
	{"ltm_search_history_turns", 0, 10, DefaultLTMSearchHistoryTurns,
		func(o *Overrides) *int { return o.LTMSearchHistoryTurns }, func(l *Limits) *int { return &l.LTMSearchHistoryTurns }},
	{"max_conversation_history", 1, 500, DefaultMaxConversationHistory,
		func(o *Overrides) *int { return o.MaxConversationHistory }, func(l *Limits) *int { return &l.MaxConversationHistory }},
	// 0 is allowed so a personality can be set never to recall long-term
	// memories; 100 keeps the memory block of the prompt bounded.
	{"memory_limit", 0, 100, DefaultMemoryLimit,
		func(o *Overrides) *int { return o.MemoryLimit }, func(l *Limits) *int { return &l.MemoryLimit }},
}

// Defaults returns the system defaults, the limits of a personality that
// sets none of its own.
func Defaults() Limits {
	var l Limits
	for _, s := range specs {
		*s.value(&l) = s.def
	}
	return l
}

// Ceilings returns the highest value each limit may take, for a caller
// that must gather enough before it knows whose limit applies (the bot
// names a message's mentions before the reply resolves the personality's
// own limits).
func Ceilings() Limits {
	var l Limits
	for _, s := range specs {
		*s.value(&l) = s.max
	}
	return l
}

// Resolve returns the limits in force: each set override, else its default.
//
// Every out-of-range override is reported, one line each in field order
// (joined with errors.Join when there are several), e.g.
//
//	max_referenced_messages: 80 is out of range, allowed 1 to 50
//
// The Limits returned alongside an error are still usable: each bad value
// is replaced by its default. That lets a caller serving a message log the
// error and carry on, while a caller saving settings rejects them.
func Resolve(o Overrides) (Limits, error) {
	l := Defaults()
	var errs []error
	for _, s := range specs {
		v := s.override(&o)
		if v == nil {
			continue
		}
		if err := s.check(*v); err != nil {
			errs = append(errs, err)
			continue
		}
		*s.value(&l) = *v
	}
	return l, join(errs)
}

// Validate reports the same problems as Resolve, for callers that only
// want to check a value before saving it.
func (o Overrides) Validate() error {
	_, err := Resolve(o)
	return err
}

func (s spec) check(v int) error {
	if v < s.min || v > s.max {
		return fmt.Errorf("%s: %d is out of range, allowed %d to %d", s.column, v, s.min, s.max)
	}
	return nil
}

// join keeps a single problem as itself rather than a one-element join, so
// its message and identity are exactly what check produced.
func join(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
