package redact

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// A key no shape rule knows is masked by ErrorWithout everywhere in the
// chain, while the causes that never held it stay findable.
func TestErrorWithout(t *testing.T) {
	const key = "custom-gateway-token-7f3a9c1e"
	inner := fmt.Errorf("proxy echoed Bearer-less %s: %w", key, context.DeadlineExceeded)
	err := fmt.Errorf("call: %w", &url.Error{Op: "Post", URL: "https://gw.example/" + key, Err: inner})

	if got := Error(err); !strings.Contains(got.Error(), key) {
		t.Fatalf("Error alone should not know this key's shape: %q", got)
	}
	got := ErrorWithout(err, key)
	for e := got; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), key) {
			t.Errorf("key left in %T: %q", e, e.Error())
		}
	}
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Error("the cause that held no key was lost")
	}
	var ue *url.Error
	if !errors.As(got, &ue) || !strings.Contains(ue.URL, Mask) {
		t.Errorf("*url.Error not kept with its URL masked: %v", got)
	}
	if plain := errors.New("nothing secret"); ErrorWithout(plain, key) != plain {
		t.Error("an error without the key was replaced")
	}
}
