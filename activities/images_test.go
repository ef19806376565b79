package activities_test

import (
	"bytes"
	"errors"
	"image"
	"image/color/palette"
	"image/gif"
	"image/png"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities"
)

func refusal(t *testing.T, err error) string {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrImageRefused || !appErr.NonRetryable() {
		t.Fatalf("err = %v, want a non-retryable %s", err, activities.ErrImageRefused)
	}
	if strings.Contains(appErr.Message(), "\n") {
		t.Errorf("message %q is more than one line", appErr.Message())
	}
	return appErr.Message()
}

func TestCheckAttachments(t *testing.T) {
	png := activities.Attachment{Filename: "a.png", ContentType: "image/png", Size: 100}
	if err := activities.CheckAttachments([]activities.Attachment{png, png, png, png}); err != nil {
		t.Errorf("four small PNGs refused: %v", err)
	}
	cases := []struct {
		name string
		atts []activities.Attachment
		want string
	}{
		{"five", []activities.Attachment{png, png, png, png, png}, "4 at most"},
		{"too big", []activities.Attachment{{Filename: "big.jpg", ContentType: "image/jpeg", Size: 10<<20 + 1}}, "10 MiB at most"},
		{"svg", []activities.Attachment{{Filename: "x.svg", ContentType: "image/svg+xml", Size: 10}}, "PNG, JPEG, WebP or GIF"},
	}
	for _, tc := range cases {
		if msg := refusal(t, activities.CheckAttachments(tc.atts)); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %q does not say %q", tc.name, msg, tc.want)
		}
	}
}

func TestCheckImage(t *testing.T) {
	var p bytes.Buffer
	_ = png.Encode(&p, image.NewGray(image.Rect(0, 0, 2, 2)))
	if mt, err := activities.CheckImage("a.png", p.Bytes()); err != nil || mt != "image/png" {
		t.Errorf("PNG: %q, %v", mt, err)
	}
	pal := palette.Plan9[:2]
	frame := func() *image.Paletted { return image.NewPaletted(image.Rect(0, 0, 2, 2), pal) }
	var still, anim bytes.Buffer
	_ = gif.EncodeAll(&still, &gif.GIF{Image: []*image.Paletted{frame()}, Delay: []int{0}})
	_ = gif.EncodeAll(&anim, &gif.GIF{Image: []*image.Paletted{frame(), frame()}, Delay: []int{5, 5}})
	if mt, err := activities.CheckImage("s.gif", still.Bytes()); err != nil || mt != "image/gif" {
		t.Errorf("still GIF: %q, %v", mt, err)
	}
	if msg := refusal(t, ignoreType(activities.CheckImage("a.gif", anim.Bytes()))); !strings.Contains(msg, "animated GIF") {
		t.Errorf("animated GIF: %q", msg)
	}
	// The bytes decide, whatever the metadata said.
	if msg := refusal(t, ignoreType(activities.CheckImage("fake.png", []byte("%PDF-1.7 not an image")))); !strings.Contains(msg, "fake.png") {
		t.Errorf("not an image: %q", msg)
	}
}

func ignoreType(_ string, err error) error { return err }
