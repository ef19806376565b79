//go:build !dev

package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// Without -tags dev, `tzurot dev` says in one line how to get the dev stack.
func TestDevNeedsTheDevBuild(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"dev"}, &out, &errOut); !errors.Is(err, errNoDevStack) {
		t.Fatalf("tzurot dev: %v, want %v", err, errNoDevStack)
	}
}
