package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/redact"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"TEMPORAL_ADDRESS", c.TemporalAddress, "127.0.0.1:7233"},
		{"TEMPORAL_NAMESPACE", c.TemporalNamespace, "default"},
		{"TEMPORAL_TASK_QUEUE", c.TemporalTaskQueue, "tzurot"},
		{"OPENROUTER_BASE_URL", c.OpenRouterBaseURL, "https://openrouter.ai/api/v1"},
		{"GUEST_MODE", string(c.GuestMode), "free"},
		{"EMBEDDING_MODEL", c.EmbeddingModel, "openai/text-embedding-3-small"},
		{"DISCORD_API_BASE", c.DiscordAPIBase, "https://discord.com"},
		{"ELEVENLABS_BASE_URL", c.ElevenLabsBaseURL, "https://api.elevenlabs.io"},
		{"LOG_FORMAT", c.LogFormat, "json"},
		{"LOG_LEVEL", c.LogLevel.String(), "INFO"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s default = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if c.LimitImagesPerHour != 10 || c.LimitGuestTokensPerDay != 50000 || c.LimitWalletWritesPer15Min != 10 {
		t.Errorf("limit defaults = %d/%d/%d, want 10/50000/10", c.LimitImagesPerHour, c.LimitGuestTokensPerDay, c.LimitWalletWritesPer15Min)
	}
	if len(c.Set) != 0 {
		t.Errorf("Set = %v, want empty", c.Set)
	}
	if got := strings.Join(c.CodecCORSOrigins, " "); got != "http://127.0.0.1:8233 http://localhost:8233" || c.CodecAuthToken != "" {
		t.Errorf("codec defaults = origins %q, token set %v; want the dev Web UI origins and no token", got, c.CodecAuthToken != "")
	}
}

func TestParseRejectsBadValues(t *testing.T) {
	cases := []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{"GUEST_MODE": "sometimes"}, `GUEST_MODE must be off, free or all, got "sometimes"`},
		{map[string]string{"LIMIT_IMAGES_PER_HOUR": "ten"}, `LIMIT_IMAGES_PER_HOUR must be a whole number ≥ 0, got "ten"`},
		{map[string]string{"LIMIT_GUEST_TOKENS_PER_DAY": "-1"}, `LIMIT_GUEST_TOKENS_PER_DAY must be a whole number ≥ 0`},
		{map[string]string{"OPENROUTER_BASE_URL": "openrouter.ai"}, `OPENROUTER_BASE_URL must be an http(s) URL`},
		{map[string]string{"DISCORD_API_BASE": "ftp://x"}, `DISCORD_API_BASE must be an http(s) URL`},
		{map[string]string{"LOG_FORMAT": "xml"}, `LOG_FORMAT must be json or text, got "xml"`},
		{map[string]string{"LOG_LEVEL": "loud"}, `LOG_LEVEL must be debug, info, warn or error`},
		{map[string]string{"BOT_OWNER_DISCORD_ID": "alice"}, `BOT_OWNER_DISCORD_ID must be a Discord id (5 to 20 digits), got "alice"`},
		{map[string]string{"CODEC_CORS_ORIGINS": "*"}, `CODEC_CORS_ORIGINS must be comma-separated origins such as http://127.0.0.1:8233 (scheme://host[:port], no path, no *), got "*"`},
		{map[string]string{"CODEC_CORS_ORIGINS": "null"}, `CODEC_CORS_ORIGINS must be comma-separated origins`},
		{map[string]string{"CODEC_CORS_ORIGINS": "https://ui.example/temporal"}, `got "https://ui.example/temporal"`},
		{map[string]string{"CODEC_CORS_ORIGINS": "ui.example:8233"}, `got "ui.example:8233"`},
		{map[string]string{"CODEC_CORS_ORIGINS": "http://127.0.0.1:8233,ftp://x"}, `got "ftp://x"`},
		{map[string]string{"CODEC_CORS_ORIGINS": " , "}, `CODEC_CORS_ORIGINS lists no origin`},
		{map[string]string{"CODEC_AUTH_TOKEN": "short"}, `CODEC_AUTH_TOKEN must be at least 16 characters`},
		{map[string]string{"CODEC_AUTH_TOKEN": "a token with spaces in it"}, `CODEC_AUTH_TOKEN must be at least 16 characters`},
		{map[string]string{"BOT_SHARD_ID": "0"}, `BOT_SHARD_ID and BOT_SHARD_COUNT go together`},
		{map[string]string{"BOT_SHARD_COUNT": "2"}, `BOT_SHARD_ID and BOT_SHARD_COUNT go together`},
		{map[string]string{"BOT_SHARD_ID": "2", "BOT_SHARD_COUNT": "2"}, `BOT_SHARD_ID must be below BOT_SHARD_COUNT (shards are numbered from 0), got 2 of 2`},
		{map[string]string{"BOT_SHARD_ID": "-1", "BOT_SHARD_COUNT": "2"}, `BOT_SHARD_ID must be a whole number ≥ 0, got "-1"`},
		{map[string]string{"BOT_SHARD_ID": "0", "BOT_SHARD_COUNT": "0"}, `BOT_SHARD_COUNT must be a whole number ≥ 1 or auto, got "0"`},
		{map[string]string{"BOT_SHARD_ID": "0", "BOT_SHARD_COUNT": "many"}, `BOT_SHARD_COUNT must be a whole number ≥ 1 or auto, got "many"`},
		{map[string]string{"METRICS_ADDR": "127.0.0.1:99999"}, `METRICS_ADDR must be host:port with a port from 0 to 65535, such as 127.0.0.1:9464 or :9464, got "127.0.0.1:99999"`},
		{map[string]string{"METRICS_ADDR": ":-1"}, `METRICS_ADDR must be host:port with a port from 0 to 65535`},
		{map[string]string{"METRICS_ADDR": ":http"}, `METRICS_ADDR must be host:port with a port from 0 to 65535`},
		{map[string]string{"METRICS_ADDR": "9464"}, `METRICS_ADDR must be host:port`},
		{map[string]string{"TEMPORAL_TLS_CERT": "/nonexistent"}, `TEMPORAL_TLS_CERT is the temporal CLI's name and tzurot does not read it: set TEMPORAL_TLS_CLIENT_CERT_PATH instead`},
		{map[string]string{"TEMPORAL_TLS_KEY": "/k.pem"}, `set TEMPORAL_TLS_CLIENT_KEY_PATH instead`},
		{map[string]string{"TEMPORAL_TLS_CA": "/ca.pem"}, `set TEMPORAL_TLS_SERVER_CA_CERT_PATH instead`},
		{map[string]string{"TEMPORAL_TLS_CERT_DATA": "pem"}, `set TEMPORAL_TLS_CLIENT_CERT_DATA instead`},
		{map[string]string{"TEMPORAL_TLS_KEY_DATA": "pem"}, `set TEMPORAL_TLS_CLIENT_KEY_DATA instead`},
		{map[string]string{"TEMPORAL_TLS_CA_DATA": "pem"}, `set TEMPORAL_TLS_SERVER_CA_CERT_DATA instead`},
	}
	for _, tc := range cases {
		_, err := Parse(lookup(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Parse(%v) error = %v, want it to contain %q", tc.env, err, tc.wantErr)
		}
	}
}

// A bad value is one line: BOT_SHARD_COUNT=0 is not also reported as an id
// not below it.
func TestParseSaysEachProblemOnce(t *testing.T) {
	_, err := Parse(lookup(map[string]string{"BOT_SHARD_ID": "0", "BOT_SHARD_COUNT": "0"}))
	if err == nil || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("BOT_SHARD_ID=0 BOT_SHARD_COUNT=0: %q, want one line", err)
	}
	for _, ok := range []string{":0", "127.0.0.1:65535", "[::1]:9464", "localhost:9464"} {
		if _, err := Parse(lookup(map[string]string{"METRICS_ADDR": ok})); err != nil {
			t.Errorf("METRICS_ADDR=%s: %v", ok, err)
		}
	}
}

func TestParseAcceptsGoodValues(t *testing.T) {
	c, err := Parse(lookup(map[string]string{
		"GUEST_MODE": "ALL", "LOG_LEVEL": "debug", "LOG_FORMAT": "text",
		"OPENROUTER_BASE_URL": "http://127.0.0.1:9000/api/v1/", "BOT_OWNER_DISCORD_ID": "123456789012345678",
		"LIMIT_IMAGES_PER_HOUR": "3", "DATABASE_URL": "postgres://u:pw@h/db",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.GuestMode != GuestAll || c.LogLevel != slog.LevelDebug || c.LogFormat != "text" ||
		c.OpenRouterBaseURL != "http://127.0.0.1:9000/api/v1" || c.LimitImagesPerHour != 3 {
		t.Errorf("unexpected config %+v", c)
	}
	if !c.Set["DATABASE_URL"] || c.Set["TEMPORAL_ADDRESS"] {
		t.Errorf("Set = %v, want DATABASE_URL only among those", c.Set)
	}
}

func TestParseShard(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want Shard
	}{
		{nil, Shard{}},
		{map[string]string{"BOT_SHARD_ID": "0", "BOT_SHARD_COUNT": "1"}, Shard{ID: 0, Count: 1, Set: true}},
		{map[string]string{"BOT_SHARD_ID": "1", "BOT_SHARD_COUNT": "2"}, Shard{ID: 1, Count: 2, Set: true}},
		{map[string]string{"BOT_SHARD_ID": "7", "BOT_SHARD_COUNT": "Auto"}, Shard{ID: 7, Count: ShardCountAuto, Set: true}},
	}
	for _, tc := range cases {
		c, err := Parse(lookup(tc.env))
		if err != nil {
			t.Errorf("Parse(%v): %v", tc.env, err)
			continue
		}
		if got := c.Shard(); got != tc.want {
			t.Errorf("Parse(%v).Shard() = %+v, want %+v", tc.env, got, tc.want)
		}
	}
	c, _ := Parse(lookup(map[string]string{"BOT_SHARD_ID": "0", "BOT_SHARD_COUNT": "auto"}))
	if v := c.LogValue().String(); !strings.Contains(v, "bot_shard_count=auto") {
		t.Errorf("the log shows %s, want bot_shard_count=auto", v)
	}
}

func TestParseCodecSettings(t *testing.T) {
	token := strings.Repeat("c0", 32)
	c, err := Parse(lookup(map[string]string{
		"CODEC_CORS_ORIGINS": " https://Temporal.Example.org/ , http://10.0.0.5:8233", "CODEC_AUTH_TOKEN": token,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.CodecCORSOrigins, " "); got != "https://temporal.example.org http://10.0.0.5:8233" {
		t.Errorf("origins = %q, want the two origins, lower case, without the trailing /", got)
	}
	if c.CodecAuthToken.Reveal() != token {
		t.Error("CODEC_AUTH_TOKEN not read")
	}
}

func TestLogValueMasksSecrets(t *testing.T) {
	secrets := map[string]string{
		"DATABASE_URL":            "postgres://tzurot:hunter2-db-password@db/tzurot",
		"APP_MASTER_KEY":          strings.Repeat("ab", 32),
		"OPENROUTER_API_KEY":      "sk-or-v1-" + strings.Repeat("0f", 32),
		"DISCORD_TOKEN":           "not-a-real-token-but-secret-anyway",
		"ELEVENLABS_API_KEY":      "sk_" + strings.Repeat("1", 48),
		"APP_MASTER_KEY_PREVIOUS": strings.Repeat("cd", 32),
		"CODEC_AUTH_TOKEN":        "codec-shared-secret-" + strings.Repeat("9", 20),
	}
	c, err := Parse(lookup(secrets))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
	out := buf.String()
	for name, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("%s leaked into the log line: %s", name, out)
		}
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	cfg := line["config"].(map[string]any)
	if cfg["openrouter_api_key"] != "[REDACTED]" || cfg["codec_auth_token"] != "[REDACTED]" || cfg["guest_mode"] != "free" {
		t.Errorf("config log = %v", cfg)
	}
}

func TestKeyringNeedsMasterKey(t *testing.T) {
	c, _ := Parse(lookup(nil))
	if _, err := c.Keyring(); err == nil || !strings.Contains(err.Error(), "APP_MASTER_KEY") {
		t.Errorf("Keyring() without a key: err = %v, want one naming APP_MASTER_KEY", err)
	}
	c, _ = Parse(lookup(map[string]string{"APP_MASTER_KEY": strings.Repeat("ab", 32)}))
	if _, err := c.Keyring(); err != nil {
		t.Errorf("Keyring() with a valid key: %v", err)
	}
}

// Every variable Parse reads is in Variables, so deployment files checked
// against it cannot miss one.
func TestVariablesListsEverythingParseReads(t *testing.T) {
	read := map[string]bool{}
	_, _ = Parse(func(k string) (string, bool) { read[k] = true; return "", false }) // only which names it reads matters
	listed := map[string]bool{}
	for _, v := range Variables() {
		listed[v] = true
	}
	for _, n := range cliTLSNames { // looked at only to be refused
		delete(read, n[0])
	}
	for k := range read {
		if !listed[k] {
			t.Errorf("Parse reads %s but Variables() does not list it", k)
		}
	}
	for k := range listed {
		if !read[k] {
			t.Errorf("Variables() lists %s but Parse does not read it", k)
		}
	}
}

// Every variable is documented where operators look for it: README's
// Configuration table and the contract's list.
func TestVariablesAreDocumented(t *testing.T) {
	for _, doc := range []struct{ path, from, to string }{
		{"../../README.md", "\n## Configuration\n", "\n## "},
		{"../../docs/contract.md", "| variable | default | meaning | secret |", "\n\n"},
	} {
		b, err := os.ReadFile(doc.path)
		if err != nil {
			t.Fatal(err)
		}
		_, section, ok := strings.Cut(string(b), doc.from)
		if !ok {
			t.Fatalf("%s has no %q", doc.path, strings.TrimSpace(doc.from))
		}
		section, _, _ = strings.Cut(section, doc.to)
		for _, v := range Variables() {
			if !strings.Contains(section, "| `"+v+"`") && !strings.Contains(section, ", `"+v+"`") {
				t.Errorf("%s does not document %s in its table", doc.path, v)
			}
		}
	}
}

// The masked log is built from the declaration, so it cannot drift from it
// (MIGRATION_BACKUP_DIR was once missing).
func TestLogValueListsEveryVariable(t *testing.T) {
	c, err := Parse(lookup(map[string]string{"MIGRATION_BACKUP_DIR": "/srv/backups"}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
	var line struct{ Config map[string]any }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	for _, v := range Declared() {
		if _, ok := line.Config[strings.ToLower(v.Name)]; !ok {
			t.Errorf("the config log has no %s: %s", strings.ToLower(v.Name), buf.String())
		}
	}
	if len(line.Config) != len(Declared()) {
		t.Errorf("the config log has %d entries, the declaration %d", len(line.Config), len(Declared()))
	}
	want := map[string]any{
		"migration_backup_dir": "/srv/backups", "limit_guest_tokens_per_day": float64(50000),
		"codec_cors_origins": DefaultCodecCORSOrigins, "log_level": "INFO", "database_url": "(unset)",
	}
	for k, w := range want {
		if got := line.Config[k]; got != w {
			t.Errorf("config log %s = %v, want %v", k, got, w)
		}
	}
}

// Every declared secret, whatever its value, shows as the mask: the test
// covers a secret added later without being edited.
func TestLogValueNeverShowsASecret(t *testing.T) {
	given := map[string]string{}
	for _, v := range Declared() {
		if v.Secret {
			given[v.Name] = "s3cret-value-of-" + v.Name
		}
	}
	if len(given) < 7 {
		t.Fatalf("only %d secrets declared: %v", len(given), given)
	}
	c, err := Parse(lookup(given))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("config", "config", c)
		for name, v := range given {
			if strings.Contains(buf.String(), v) {
				t.Errorf("%s leaked into the log line: %s", name, buf.String())
			}
			if !strings.Contains(buf.String(), strings.ToLower(name)) {
				t.Errorf("%s is not in the log line at all: %s", name, buf.String())
			}
		}
		if n := strings.Count(buf.String(), redact.Mask); n != len(given) {
			t.Errorf("%d masks in the log line, want one per secret (%d): %s", n, len(given), buf.String())
		}
	}
}

// The declaration agrees with the names other packages spell.
func TestDeclarationMatchesOtherNames(t *testing.T) {
	fields := map[string]string{}
	for _, v := range Declared() {
		fields[v.Field] = v.Name
		if v.Field == "CodecCORSOrigins" && v.Default != DefaultCodecCORSOrigins {
			t.Errorf("CODEC_CORS_ORIGINS envDefault %q, DefaultCodecCORSOrigins %q: keep them equal", v.Default, DefaultCodecCORSOrigins)
		}
	}
	if fields["MasterKey"] != keycrypt.MasterKeyEnv || fields["MasterKeyPrevious"] != keycrypt.PreviousMasterKeyEnv {
		t.Errorf("master keys declared as %q and %q, keycrypt names them %q and %q",
			fields["MasterKey"], fields["MasterKeyPrevious"], keycrypt.MasterKeyEnv, keycrypt.PreviousMasterKeyEnv)
	}
}

// Parse reads through lookup only: the env library is given the values, so
// the process environment cannot leak into a test's configuration.
func TestParseReadsOnlyThroughLookup(t *testing.T) {
	t.Setenv("GUEST_MODE", "all")
	t.Setenv("LIMIT_IMAGES_PER_HOUR", "99")
	c, err := Parse(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.GuestMode != GuestFree || c.LimitImagesPerHour != 10 {
		t.Errorf("GUEST_MODE %q, LIMIT_IMAGES_PER_HOUR %d: read from the process environment, want the defaults", c.GuestMode, c.LimitImagesPerHour)
	}
}

// LIMIT_GUEST_USD_PER_DAY is an amount of dollars: unset or blank is off,
// and a currency sign, a negative or a non-number stops the process with
// one line naming the variable.
func TestLimitGuestUSDPerDay(t *testing.T) {
	for in, want := range map[string]Dollars{"": 0, " ": 0, "0.50": 0.5, "2": 2, "0": 0} {
		c, err := Parse(func(k string) (string, bool) { return in, k == "LIMIT_GUEST_USD_PER_DAY" })
		if err != nil || c.LimitGuestUSDPerDay != want {
			t.Errorf("%q: %v, %v; want %v", in, c.LimitGuestUSDPerDay, err, want)
		}
	}
	for _, in := range []string{"$0.50", "-1", "NaN", "Inf", "lots"} {
		_, err := Parse(func(k string) (string, bool) { return in, k == "LIMIT_GUEST_USD_PER_DAY" })
		if err == nil || !strings.Contains(err.Error(), "LIMIT_GUEST_USD_PER_DAY must be an amount of US dollars") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line naming the variable", in, err)
		}
	}
}
