package activities

import "testing"

// The growing text shows only what a whole reply would show: reasoning
// blocks, open or closed, never appear, and a tag still being written is
// held back rather than flashing as markup.
func TestVisibleSoFar(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Hello the", "Hello the"},
		{"<think>weighing it", ""},
		{"<think>weighing it</think>Cold.", "Cold."},
		{"Cold. <thi", "Cold."},
		{"Cold. </thin", "Cold."},
		{"Cold. <think>hm", "Cold."},
		{"a < b and more", "a < b and more"},
		{"use `<think>` tags", "use `<think>` tags"},
	} {
		if got := visibleSoFar(tc.in); got != tc.want {
			t.Errorf("visibleSoFar(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
