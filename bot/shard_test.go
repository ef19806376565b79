package bot

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// The session's shard comes from BOT_SHARD_ID and BOT_SHARD_COUNT; auto
// asks GET /gateway/bot for Discord's recommended count, and an id at or
// past it is refused in one line. Only shard 0 registers commands.
func TestShardFromConfig(t *testing.T) {
	fake := fakediscord.New(fakediscord.Options{RecommendedShards: 3})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cases := []struct {
		env       map[string]string
		want      [2]int
		wantErr   string
		registers bool
	}{
		{nil, [2]int{0, 1}, "", true},
		{map[string]string{"BOT_SHARD_ID": "1", "BOT_SHARD_COUNT": "4"}, [2]int{1, 4}, "", false},
		{map[string]string{"BOT_SHARD_ID": "0", "BOT_SHARD_COUNT": "4"}, [2]int{0, 4}, "", true},
		{map[string]string{"BOT_SHARD_ID": "2", "BOT_SHARD_COUNT": "auto"}, [2]int{2, 3}, "", false},
		{map[string]string{"BOT_SHARD_ID": "3", "BOT_SHARD_COUNT": "auto"}, [2]int{}, "BOT_SHARD_ID=3 is not below the 3 shards Discord recommends", false},
	}
	for _, tc := range cases {
		cfg, err := config.Parse(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		s, err := discordhttp.Session("t", srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b := &Bot{Deps: Deps{Session: s, Config: cfg}}
		got, err := b.shard(context.Background())
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %q", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want || s.ShardID != tc.want[0] || s.ShardCount != tc.want[1] || registersCommands(got) != tc.registers {
			t.Errorf("%v: shard %v (session %d/%d), %v; want %v, registers commands %v", tc.env, got, s.ShardID, s.ShardCount, err, tc.want, tc.registers)
		}
	}
}
