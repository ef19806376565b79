package limits

import (
	"reflect"
	"strings"
	"testing"
)

func ptr(v int) *int { return &v }

func TestDefaults(t *testing.T) {
	want := Limits{
		MaxReferencedMessages:  10,
		MaxMentionsPerMessage:  5,
		MaxChannelsPerMessage:  5,
		MaxRolesPerMessage:     5,
		LTMSearchHistoryTurns:  3,
		MaxConversationHistory: 50,
		MemoryLimit:            20,
	}
	if got := Defaults(); got != want {
		t.Errorf("Defaults() = %+v, want %+v", got, want)
	}
	// A default that broke its own range would make every unset personality
	// fail the checks the defaults are meant to satisfy.
	for _, s := range specs {
		if err := s.check(s.def); err != nil {
			t.Errorf("default for %s: %v", s.column, err)
		}
	}
}

// Every field of Overrides and Limits must be in the table, or it would be
// silently ignored by Resolve.
func TestSpecsCoverEveryField(t *testing.T) {
	if n, m := reflect.TypeFor[Overrides]().NumField(), reflect.TypeFor[Limits]().NumField(); n != len(specs) || m != len(specs) {
		t.Fatalf("Overrides has %d fields, Limits %d, specs %d", n, m, len(specs))
	}
	var o Overrides
	for i, s := range specs {
		reflect.ValueOf(&o).Elem().Field(i).Set(reflect.ValueOf(ptr(s.min)))
	}
	got, err := Resolve(o)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range specs {
		if v := reflect.ValueOf(got).Field(i).Int(); v != int64(s.min) {
			t.Errorf("field %d (%s) = %d, want %d: table and struct disagree", i, s.column, v, s.min)
		}
	}
}

func TestResolve(t *testing.T) {
	with := func(f func(*Limits)) Limits {
		l := Defaults()
		f(&l)
		return l
	}
	cases := []struct {
		name    string
		o       Overrides
		want    Limits
		wantErr string
	}{
		{"nothing set", Overrides{}, Defaults(), ""},

		{"referenced min", Overrides{MaxReferencedMessages: ptr(1)}, with(func(l *Limits) { l.MaxReferencedMessages = 1 }), ""},
		{"referenced max", Overrides{MaxReferencedMessages: ptr(50)}, with(func(l *Limits) { l.MaxReferencedMessages = 50 }), ""},
		{"referenced below", Overrides{MaxReferencedMessages: ptr(0)}, Defaults(), "max_referenced_messages: 0 is out of range, allowed 1 to 50"},
		{"referenced above", Overrides{MaxReferencedMessages: ptr(51)}, Defaults(), "max_referenced_messages: 51 is out of range, allowed 1 to 50"},

		{"mentions min", Overrides{MaxMentionsPerMessage: ptr(1)}, with(func(l *Limits) { l.MaxMentionsPerMessage = 1 }), ""},
		{"mentions max", Overrides{MaxMentionsPerMessage: ptr(50)}, with(func(l *Limits) { l.MaxMentionsPerMessage = 50 }), ""},
		{"mentions below", Overrides{MaxMentionsPerMessage: ptr(0)}, Defaults(), "max_mentions_per_message: 0 is out of range, allowed 1 to 50"},
		{"mentions above", Overrides{MaxMentionsPerMessage: ptr(51)}, Defaults(), "max_mentions_per_message: 51 is out of range, allowed 1 to 50"},

		{"channels min", Overrides{MaxChannelsPerMessage: ptr(1)}, with(func(l *Limits) { l.MaxChannelsPerMessage = 1 }), ""},
		{"channels max", Overrides{MaxChannelsPerMessage: ptr(20)}, with(func(l *Limits) { l.MaxChannelsPerMessage = 20 }), ""},
		{"channels below", Overrides{MaxChannelsPerMessage: ptr(0)}, Defaults(), "max_channels_per_message: 0 is out of range, allowed 1 to 20"},
		{"channels above", Overrides{MaxChannelsPerMessage: ptr(21)}, Defaults(), "max_channels_per_message: 21 is out of range, allowed 1 to 20"},

		{"roles min", Overrides{MaxRolesPerMessage: ptr(1)}, with(func(l *Limits) { l.MaxRolesPerMessage = 1 }), ""},
		{"roles max", Overrides{MaxRolesPerMessage: ptr(20)}, with(func(l *Limits) { l.MaxRolesPerMessage = 20 }), ""},
		{"roles below", Overrides{MaxRolesPerMessage: ptr(-1)}, Defaults(), "max_roles_per_message: -1 is out of range, allowed 1 to 20"},
		{"roles above", Overrides{MaxRolesPerMessage: ptr(21)}, Defaults(), "max_roles_per_message: 21 is out of range, allowed 1 to 20"},

		{"ltm turns zero", Overrides{LTMSearchHistoryTurns: ptr(0)}, with(func(l *Limits) { l.LTMSearchHistoryTurns = 0 }), ""},
		{"ltm turns max", Overrides{LTMSearchHistoryTurns: ptr(10)}, with(func(l *Limits) { l.LTMSearchHistoryTurns = 10 }), ""},
		{"ltm turns below", Overrides{LTMSearchHistoryTurns: ptr(-1)}, Defaults(), "ltm_search_history_turns: -1 is out of range, allowed 0 to 10"},
		{"ltm turns above", Overrides{LTMSearchHistoryTurns: ptr(11)}, Defaults(), "ltm_search_history_turns: 11 is out of range, allowed 0 to 10"},

		{"history min", Overrides{MaxConversationHistory: ptr(1)}, with(func(l *Limits) { l.MaxConversationHistory = 1 }), ""},
		{"history max", Overrides{MaxConversationHistory: ptr(500)}, with(func(l *Limits) { l.MaxConversationHistory = 500 }), ""},
		{"history below", Overrides{MaxConversationHistory: ptr(0)}, Defaults(), "max_conversation_history: 0 is out of range, allowed 1 to 500"},
		{"history above", Overrides{MaxConversationHistory: ptr(501)}, Defaults(), "max_conversation_history: 501 is out of range, allowed 1 to 500"},

		{"memory zero", Overrides{MemoryLimit: ptr(0)}, with(func(l *Limits) { l.MemoryLimit = 0 }), ""},
		{"memory max", Overrides{MemoryLimit: ptr(100)}, with(func(l *Limits) { l.MemoryLimit = 100 }), ""},
		{"memory below", Overrides{MemoryLimit: ptr(-1)}, Defaults(), "memory_limit: -1 is out of range, allowed 0 to 100"},
		{"memory above", Overrides{MemoryLimit: ptr(101)}, Defaults(), "memory_limit: 101 is out of range, allowed 0 to 100"},

		{
			"good values kept, bad ones fall back, every problem reported in field order",
			Overrides{MaxConversationHistory: ptr(9999), MaxReferencedMessages: ptr(0), MaxRolesPerMessage: ptr(3)},
			with(func(l *Limits) { l.MaxRolesPerMessage = 3 }),
			"max_referenced_messages: 0 is out of range, allowed 1 to 50\nmax_conversation_history: 9999 is out of range, allowed 1 to 500",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(tc.o)
			if got != tc.want {
				t.Errorf("Resolve() limits = %+v, want %+v", got, tc.want)
			}
			verr := tc.o.Validate()
			if tc.wantErr == "" {
				if err != nil || verr != nil {
					t.Errorf("Resolve() error = %v, Validate() = %v, want nil", err, verr)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Resolve() error = %v, want %q", err, tc.wantErr)
			}
			if verr == nil || verr.Error() != tc.wantErr {
				t.Errorf("Validate() = %v, want %q", verr, tc.wantErr)
			}
			for _, line := range strings.Split(tc.wantErr, "\n") {
				if !strings.Contains(line, ": ") || !strings.Contains(line, "allowed") {
					t.Errorf("line %q does not stand alone", line)
				}
			}
		})
	}
}

// The ceilings are each limit's highest allowed value: one more is refused.
func TestCeilings(t *testing.T) {
	c := Ceilings()
	if c.MaxMentionsPerMessage != 50 || c.MaxChannelsPerMessage != 20 || c.MaxRolesPerMessage != 20 {
		t.Errorf("Ceilings() = %+v", c)
	}
	if err := (Overrides{MaxMentionsPerMessage: ptr(c.MaxMentionsPerMessage)}).Validate(); err != nil {
		t.Errorf("the ceiling itself is refused: %v", err)
	}
	if err := (Overrides{MaxMentionsPerMessage: ptr(c.MaxMentionsPerMessage + 1)}).Validate(); err == nil {
		t.Error("one past the ceiling is accepted")
	}
}
