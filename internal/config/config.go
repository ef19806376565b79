// Package config reads tzurot's configuration — the environment variables of
// interfaces.md, plus a .env file in the working directory — into one struct,
// validated once at startup, with secrets masked whenever it is logged.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/joho/godotenv"

	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/redact"
)

// GuestMode says what users without a key of their own may do.
type GuestMode string

const (
	GuestOff  GuestMode = "off"  // nothing
	GuestFree GuestMode = "free" // only free models, on the operator's key
	GuestAll  GuestMode = "all"  // anything, on the operator's key
)

// Config is every setting of every subcommand.
type Config struct {
	DatabaseURL redact.Secret // may carry a password

	TemporalAddress   string
	TemporalNamespace string
	TemporalTaskQueue string

	MasterKey         redact.Secret
	MasterKeyPrevious redact.Secret

	OpenRouterAPIKey  redact.Secret
	OpenRouterBaseURL string
	GuestMode         GuestMode

	DiscordToken      redact.Secret
	DiscordAPIBase    string
	DiscordDevGuildID string
	BotOwnerDiscordID string

	ElevenLabsAPIKey  redact.Secret
	ElevenLabsBaseURL string

	LimitImagesPerHour        int
	LimitGuestTokensPerDay    int
	LimitWalletWritesPer15Min int

	OTLPEndpoint string

	// BackupDir is where data migrations put their pg_dump backups.
	BackupDir string

	// CodecCORSOrigins are the Web UI origins (scheme://host[:port]) whose
	// pages may call `tzurot codec-server` from the browser.
	CodecCORSOrigins []string
	// CodecAuthToken, when set, must accompany every codec request
	// (Authorization: Bearer <token>, or Basic with it as the password);
	// required when the codec server listens beyond loopback.
	CodecAuthToken redact.Secret

	LogLevel  slog.Level
	LogFormat string // json or text

	// Set tells which variables were given explicitly, so `tzurot dev` knows
	// what it must provide itself (a database, a Temporal server).
	Set map[string]bool
}

// Variables are the environment variables Parse reads, in the order of
// interfaces.md; deployment files are checked against this list.
func Variables() []string {
	return []string{
		"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE",
		keycrypt.MasterKeyEnv, keycrypt.PreviousMasterKeyEnv, "OPENROUTER_API_KEY", "OPENROUTER_BASE_URL",
		"GUEST_MODE", "DISCORD_TOKEN", "DISCORD_API_BASE", "DISCORD_DEV_GUILD_ID", "BOT_OWNER_DISCORD_ID",
		"ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL", "LIMIT_IMAGES_PER_HOUR", "LIMIT_GUEST_TOKENS_PER_DAY",
		"LIMIT_WALLET_WRITES_PER_15MIN", "OTEL_EXPORTER_OTLP_ENDPOINT", "LOG_LEVEL", "LOG_FORMAT",
		"MIGRATION_BACKUP_DIR", "CODEC_CORS_ORIGINS", "CODEC_AUTH_TOKEN",
	}
}

// Load reads a .env file in the working directory when there is one (real
// environment variables win), then the environment.
func Load() (Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Config{}, fmt.Errorf("read .env: %w", err)
	}
	return Parse(os.LookupEnv)
}

// Parse builds a Config from lookup (os.LookupEnv in production), reporting every
// bad value at once, one line each.
func Parse(lookup func(string) (string, bool)) (Config, error) {
	c := Config{Set: map[string]bool{}}
	var errs []error
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			c.Set[name] = true
			return strings.TrimSpace(v)
		}
		return def
	}
	getInt := func(name string, def int) int {
		v := get(name, "")
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s must be a whole number ≥ 0, got %q", name, v))
			return def
		}
		return n
	}
	getURL := func(name, def string) string {
		v := strings.TrimRight(get(name, def), "/")
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be an http(s) URL such as %s, got %q", name, def, v))
		}
		return v
	}

	c.DatabaseURL = redact.Secret(get("DATABASE_URL", ""))
	c.TemporalAddress = get("TEMPORAL_ADDRESS", "127.0.0.1:7233")
	c.TemporalNamespace = get("TEMPORAL_NAMESPACE", "default")
	c.TemporalTaskQueue = get("TEMPORAL_TASK_QUEUE", "tzurot")
	c.MasterKey = redact.Secret(get(keycrypt.MasterKeyEnv, ""))
	c.MasterKeyPrevious = redact.Secret(get(keycrypt.PreviousMasterKeyEnv, ""))
	c.OpenRouterAPIKey = redact.Secret(get("OPENROUTER_API_KEY", ""))
	c.OpenRouterBaseURL = getURL("OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1")
	switch m := GuestMode(strings.ToLower(get("GUEST_MODE", string(GuestFree)))); m {
	case GuestOff, GuestFree, GuestAll:
		c.GuestMode = m
	default:
		errs = append(errs, fmt.Errorf("GUEST_MODE must be off, free or all, got %q", m))
	}
	c.DiscordToken = redact.Secret(get("DISCORD_TOKEN", ""))
	c.DiscordAPIBase = getURL("DISCORD_API_BASE", "https://discord.com")
	c.DiscordDevGuildID = get("DISCORD_DEV_GUILD_ID", "")
	c.BotOwnerDiscordID = get("BOT_OWNER_DISCORD_ID", "")
	c.ElevenLabsAPIKey = redact.Secret(get("ELEVENLABS_API_KEY", ""))
	c.ElevenLabsBaseURL = getURL("ELEVENLABS_BASE_URL", "https://api.elevenlabs.io")
	c.LimitImagesPerHour = getInt("LIMIT_IMAGES_PER_HOUR", 10)
	c.LimitGuestTokensPerDay = getInt("LIMIT_GUEST_TOKENS_PER_DAY", 50000)
	c.LimitWalletWritesPer15Min = getInt("LIMIT_WALLET_WRITES_PER_15MIN", 10)
	c.OTLPEndpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	c.BackupDir = get("MIGRATION_BACKUP_DIR", ".data/backups")
	c.CodecCORSOrigins, errs = parseOrigins(get("CODEC_CORS_ORIGINS", DefaultCodecCORSOrigins), errs)
	c.CodecAuthToken = redact.Secret(get("CODEC_AUTH_TOKEN", ""))
	if t := c.CodecAuthToken.Reveal(); t != "" && !isToken68(t) {
		errs = append(errs, errors.New("CODEC_AUTH_TOKEN must be at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (openssl rand -hex 32 makes one)"))
	}

	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", get("LOG_LEVEL", "")))
	}
	switch c.LogFormat = strings.ToLower(get("LOG_FORMAT", "json")); c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be json or text, got %q", c.LogFormat))
	}
	for _, id := range []struct{ name, v string }{{"DISCORD_DEV_GUILD_ID", c.DiscordDevGuildID}, {"BOT_OWNER_DISCORD_ID", c.BotOwnerDiscordID}} {
		if id.v != "" && !isSnowflake(id.v) {
			errs = append(errs, fmt.Errorf("%s must be a Discord id (5 to 20 digits), got %q", id.name, id.v))
		}
	}
	return c, errors.Join(errs...)
}

// Keyring validates the master keys and builds the keyring the worker and the
// bot need; its error is the one line to print at startup.
func (c Config) Keyring() (*keycrypt.Keyring, error) {
	return keycrypt.NewKeyring(c.MasterKey.Reveal(), c.MasterKeyPrevious.Reveal())
}

// LogValue shows the configuration with every secret masked.
func (c Config) LogValue() slog.Value {
	mask := func(s redact.Secret) string {
		if s == "" {
			return "(unset)"
		}
		return redact.Mask
	}
	return slog.GroupValue(
		slog.String("database_url", mask(c.DatabaseURL)),
		slog.String("temporal_address", c.TemporalAddress),
		slog.String("temporal_namespace", c.TemporalNamespace),
		slog.String("temporal_task_queue", c.TemporalTaskQueue),
		slog.String("app_master_key", mask(c.MasterKey)),
		slog.String("app_master_key_previous", mask(c.MasterKeyPrevious)),
		slog.String("openrouter_api_key", mask(c.OpenRouterAPIKey)),
		slog.String("openrouter_base_url", c.OpenRouterBaseURL),
		slog.String("guest_mode", string(c.GuestMode)),
		slog.String("discord_token", mask(c.DiscordToken)),
		slog.String("discord_api_base", c.DiscordAPIBase),
		slog.String("discord_dev_guild_id", c.DiscordDevGuildID),
		slog.String("bot_owner_discord_id", c.BotOwnerDiscordID),
		slog.String("elevenlabs_api_key", mask(c.ElevenLabsAPIKey)),
		slog.String("elevenlabs_base_url", c.ElevenLabsBaseURL),
		slog.Int("limit_images_per_hour", c.LimitImagesPerHour),
		slog.Int("limit_guest_tokens_per_day", c.LimitGuestTokensPerDay),
		slog.Int("limit_wallet_writes_per_15min", c.LimitWalletWritesPer15Min),
		slog.String("otel_exporter_otlp_endpoint", c.OTLPEndpoint),
		slog.String("codec_cors_origins", strings.Join(c.CodecCORSOrigins, ",")),
		slog.String("codec_auth_token", mask(c.CodecAuthToken)),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
	)
}

// NewLogger builds the process logger: JSON or text, at the configured level,
// behind the redacting handler so no key reaches a log line.
func (c Config) NewLogger(w *os.File) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if c.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(redact.NewHandler(h))
}

func isSnowflake(s string) bool {
	if len(s) < 5 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// DefaultCodecCORSOrigins is the Web UI of a local Temporal dev server
// (`tzurot dev`, `temporal server start-dev`), under both of its names.
const DefaultCodecCORSOrigins = "http://127.0.0.1:8233,http://localhost:8233"

// parseOrigins reads a comma-separated list of browser origins as the
// Origin header carries them (RFC 6454 serialisation: scheme://host[:port],
// no path); a trailing "/" is dropped. "*" and "null" are refused: the codec
// answers with credentials allowed, which the CORS rules forbid with "*",
// and "null" is any sandboxed page.
func parseOrigins(v string, errs []error) ([]string, []error) {
	var out []string
	bad := false
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			errs = append(errs, fmt.Errorf("CODEC_CORS_ORIGINS must be comma-separated origins such as http://127.0.0.1:8233 (scheme://host[:port], no path, no *), got %q", o))
			bad = true
			continue
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	if len(out) == 0 && !bad {
		errs = append(errs, fmt.Errorf("CODEC_CORS_ORIGINS lists no origin; leave it unset for %s", DefaultCodecCORSOrigins))
	}
	return out, errs
}

// isToken68 says whether s can travel as a bearer token (RFC 6750 b64token)
// and is long enough not to be guessed.
func isToken68(s string) bool {
	if len(s) < 16 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-._~+/=", r):
		default:
			return false
		}
	}
	return true
}
