//go:build integration

package devchat_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
)

// Every /attach outcome the bot is silent on gets one line: a missing
// file, one past Discord's 10 MiB (not posted), one that is not an image
// (posted, seen by no personality), an image addressed to no personality;
// an addressed image is answered, with none of those lines.
func TestChatAttachSaysWhatHappened(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	lone := write("lone.png", b.Bytes())
	seen := write("seen.png", b.Bytes())
	notes := write("notes.txt", []byte("just some words"))
	big := filepath.Join(dir, "big.png")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(11 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	_, out, done := chatWorld(t, strings.Join([]string{
		"/wallet set", chatKey,
		"/attach " + filepath.Join(dir, "missing.png"),
		"/attach " + big,
		"/attach " + notes,
		"/attach " + lone,
		"/attach " + seen + " @demo what is it?",
		"",
	}, "\n"))
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := out.String()
	for _, want := range []string{
		"Could not read " + filepath.Join(dir, "missing.png"),
		"(only you) big.png is 11.0 MiB and Discord takes files up to 10 MiB: attach a smaller copy.",
		"(only you) notes.txt is text/plain; charset=utf-8, not an image: it is posted, but personalities see only images",
		"(only you) lone.png is posted, but no personality was addressed, so none sees it",
		fakeopenrouter.ImageDigest(b.Bytes()),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the chat showed:\n%s\nwant %q", got, want)
		}
	}
	if strings.Contains(got, "seen.png is posted, but no personality") {
		t.Errorf("the chat said the image to @demo was addressed to no one:\n%s", got)
	}
}
