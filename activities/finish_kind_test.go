package activities_test

import (
	"testing"

	"github.com/tzurot/tzurot/activities"
)

func TestFinishKind(t *testing.T) {
	for _, tc := range []struct{ finish, native, want string }{
		{"stop", "end_turn", "stop"}, {"length", "", "length"}, {"CONTENT_FILTER", "", "content_filter"},
		{"", "MAX_TOKENS", "length"}, {"", "max_tokens", "length"}, {"", "SAFETY", "content_filter"},
		{"", "RECITATION", "content_filter"}, {"", "refusal", "content_filter"}, {"", "tool_use", "tool_calls"},
		{"", "error", "error"}, {"", "end_turn", "stop"}, {"", "STOP", "stop"}, {"", "", ""},
	} {
		if got := activities.FinishKind(tc.finish, tc.native); got != tc.want {
			t.Errorf("finishKind(%q, %q) = %q, want %q", tc.finish, tc.native, got, tc.want)
		}
	}
}
