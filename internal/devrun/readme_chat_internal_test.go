//go:build integration

package devrun

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/devchat"
	"github.com/tzurot/tzurot/internal/itest"
)

// readmeChat is README's chat walk-through ("Chat as a Discord user"): the
// lines typed (after "#general > ", and a key for each form field) and the
// lines shown, "← …" notes removed.
func readmeChat(t *testing.T) (typed []string, shown []string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "#### Chat as a Discord user")
	_, rest, ok2 := strings.Cut(rest, "```text\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal(`README.md has no text block under "#### Chat as a Discord user"`)
	}
	for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		line, _, _ = strings.Cut(line, "←")
		line = strings.TrimRight(line, " ")
		if in, ok := strings.CutPrefix(line, "#general > "); ok {
			typed = append(typed, in)
			continue
		}
		shown = append(shown, line)
		switch {
		case strings.Contains(line, "[sk-or-v1-…]:"):
			typed = append(typed, "sk-or-v1-0123456789abcdef")
		case strings.Contains(line, "[sk_…]:"):
			typed = append(typed, "sk_0123456789abcdef0123")
		}
	}
	return typed, shown
}

// TestReadmeChatTranscript plays README's chat walk-through through the
// chat `tzurot dev` runs — its stand-ins, demo personalities, worker and
// bot handlers — and checks that every line README shows is printed, in
// order and whole ("…" standing for what varies: ports, ids, the rest of
// a long line).
func TestReadmeChatTranscript(t *testing.T) {
	typed, shown := readmeChat(t)
	s := itest.New(t, itest.Options{NoWorker: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := s.Config
	cfg.Set, cfg.OpenRouterAPIKey, cfg.ElevenLabsAPIKey, cfg.DiscordToken = nil, "", "", ""
	cfg.MetricsAddr = ""
	log := s.Activities.Log
	var chat atomic.Pointer[devchat.Chat]
	off, err := startStandIns(ctx, &cfg, log, true, &chat)
	t.Cleanup(func() {
		for _, stop := range off.stops {
			stop()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := seedDemo(ctx, cfg, log); err != nil {
		t.Fatal(err)
	}
	workerCfg := cfg
	workerCfg.BotOwnerDiscordID = devchat.ChatUserID
	workerDone := make(chan error, 1)
	go func() { workerDone <- app.RunWorker(ctx, workerCfg, log) }()
	defer func() {
		cancel()
		if err := <-workerDone; err != nil {
			t.Errorf("the worker: %v", err)
		}
	}()

	var out itest.SyncBuffer
	if err := runChat(ctx, cfg, log, off.discord, &chat, off.openRouter, strings.NewReader(strings.Join(typed, "\n")+"\n"), &out); err != nil {
		t.Fatalf("the chat: %v", err)
	}
	printed := strings.Split(out.String(), "\n")
	at := 0
	for _, want := range shown {
		pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(want), "…", ".*") + "$"
		if strings.HasSuffix(want, "]:") {
			pattern = strings.TrimSuffix(pattern, "$") // a form field: what is typed follows, masked
		}
		re := regexp.MustCompile(pattern)
		for at < len(printed) && !re.MatchString(printed[at]) {
			at++
		}
		if at == len(printed) {
			t.Fatalf("README's line %q is not printed (in this order) by the chat:\n%s", want, out.String())
		}
		at++
	}
}
