package devchat

import (
	"os"
	"path/filepath"
	"testing"
)

// /attach takes a path as a shell would its first word: quoted, or with
// escaped spaces, may hold spaces; ~/ is the home folder.
func TestAttachPath(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, path, text string }{
		{`/tmp/x.png @demo hi`, "/tmp/x.png", "@demo hi"},
		{`"/tmp/x/my pic.png" @demo hi`, "/tmp/x/my pic.png", "@demo hi"},
		{`'/tmp/x/my pic.png'`, "/tmp/x/my pic.png", ""},
		{`/tmp/x/my\ pic.png @demo hi`, "/tmp/x/my pic.png", "@demo hi"},
		{`~/pics/cat.png look`, filepath.Join(home, "pics/cat.png"), "look"},
		{`"~/my pic.png"`, filepath.Join(home, "my pic.png"), ""},
	} {
		path, text, ok := attachPath(tc.in)
		if !ok || path != tc.path || text != tc.text {
			t.Errorf("attachPath(%q) = %q, %q, %v; want %q, %q", tc.in, path, text, ok, tc.path, tc.text)
		}
	}
	if _, _, ok := attachPath(`"/tmp/my pic.png @demo`); ok {
		t.Error("an unclosed quote was taken")
	}
}
