package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The production binary links none of the offline stand-ins nor the dev
// stack's chat: they come in only with -tags dev (`make dev`), which the
// second list proves the check would see.
func TestProductionBinaryLinksNoStandIn(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is needed to list the binary's packages: ", err)
	}
	devOnly := func(tags ...string) []string {
		t.Helper()
		out, err := exec.Command(goBin, append(append([]string{"list", "-deps"}, tags...), ".")...).Output()
		if err != nil {
			t.Fatalf("go list -deps %v: %v", tags, err)
		}
		var found []string
		for _, pkg := range strings.Fields(string(out)) {
			if strings.Contains(pkg, "/internal/fakes/") || strings.HasSuffix(pkg, "/internal/devchat") || strings.HasSuffix(pkg, "/internal/devrun") {
				found = append(found, pkg)
			}
		}
		return found
	}
	if found := devOnly(); len(found) > 0 {
		t.Errorf("the production binary links %v: keep them behind -tags dev", found)
	}
	if found := devOnly("-tags", "dev"); len(found) < 4 {
		t.Errorf("with -tags dev only %v are linked; want the stand-ins and the dev chat", found)
	}
}
