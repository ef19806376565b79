// Package config reads tzurot's configuration — the environment variables of
// docs/contract.md, plus a .env file in the working directory — into one
// struct, validated once at startup, with secrets masked whenever it is
// logged. Each variable is declared once, by the tags of its Config field;
// the masked log, README.md's table and the docker-compose.yml check all
// read that declaration.
package config

//go:generate go run ../tools/configdoc ../../README.md ../../docs/contract.md

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"

	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/redact"
)

// Dollars is an amount of US dollars: a finite number, 0 or more, written
// without a currency sign ("0.50").
type Dollars float64

// UnmarshalText reads an amount as caarlos0/env hands it over; blank is 0.
func (d *Dollars) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	if text == "" {
		*d = 0
		return nil
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return errors.New("not an amount of US dollars")
	}
	*d = Dollars(v)
	return nil
}

// GuestMode says what users without a key of their own may do.
type GuestMode string

const (
	GuestOff  GuestMode = "off"  // nothing
	GuestFree GuestMode = "free" // only free models, on the operator's key
	GuestAll  GuestMode = "all"  // anything, on the operator's key
)

// Days is a number of days, at least 1; zero means the variable is unset.
type Days int

// String is the number, or "unset" for zero, as the masked config log shows it.
func (d Days) String() string {
	if d == 0 {
		return "unset"
	}
	return strconv.Itoa(int(d))
}

// Config is every setting of every subcommand. Each field read from the
// environment declares its variable with tags, parsed by
// github.com/caarlos0/env:
//
//   - env: the variable's name;
//   - envDefault: its value when unset or blank (no tag: the zero value);
//   - desc: what it means, for README.md's table, in Markdown with 'x' for
//     code (a struct tag cannot hold a backtick; see [DocTable]);
//   - check (optional): a rule for the value beyond its type — url, snowflake,
//     token, or oneof:A B C (case-insensitive, stored lower-case).
//
// A field of type [redact.Secret] is secret: masked in [Config.LogValue] and
// marked so in the table.
type Config struct {
	DatabaseURL redact.Secret `env:"DATABASE_URL" desc:"PostgreSQL URL (lib/pq); may hold a password. Unset: 'tzurot dev' and 'tzurot migrate' use the local dev cluster, 'worker' and 'bot' refuse to start"`

	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233" desc:"Temporal frontend host:port; unset: the address of the Temporal profile ('TEMPORAL_PROFILE'), else this default. When set, or when 'TEMPORAL_PROFILE' is, 'tzurot dev' starts no server of its own"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default" desc:"Temporal namespace of every workflow; unset: the profile's, else this default"`
	TemporalTaskQueue string `env:"TEMPORAL_TASK_QUEUE" envDefault:"tzurot" desc:"the task queue of every workflow and activity"`

	// The Temporal SDK's environment configuration
	// (go.temporal.io/sdk/contrib/envconfig), declared here so that they are
	// documented and masked; internal/temporalclient hands them to envconfig,
	// which reads them as every Temporal tool does
	// (https://docs.temporal.io/develop/environment-configuration).
	TemporalAPIKey               redact.Secret `env:"TEMPORAL_API_KEY" desc:"an API key (Temporal Cloud), sent as 'authorization: Bearer …' on every call; turns TLS on unless 'TEMPORAL_TLS=false'"`
	TemporalTLS                  string        `env:"TEMPORAL_TLS" check:"oneof:true false 1 0" desc:"'true' connects over TLS with the system's roots (set by any 'TEMPORAL_TLS_*' or an API key anyway); 'false' forces plain text"`
	TemporalTLSClientCertPath    string        `env:"TEMPORAL_TLS_CLIENT_CERT_PATH" desc:"PEM client certificate for mTLS (with 'TEMPORAL_TLS_CLIENT_KEY_PATH')"`
	TemporalTLSClientCertData    string        `env:"TEMPORAL_TLS_CLIENT_CERT_DATA" desc:"the same certificate as PEM text instead of a path"`
	TemporalTLSClientKeyPath     string        `env:"TEMPORAL_TLS_CLIENT_KEY_PATH" desc:"PEM private key of the client certificate"`
	TemporalTLSClientKeyData     redact.Secret `env:"TEMPORAL_TLS_CLIENT_KEY_DATA" desc:"the same key as PEM text instead of a path"`
	TemporalTLSServerCACertPath  string        `env:"TEMPORAL_TLS_SERVER_CA_CERT_PATH" desc:"PEM CA that signed the server's certificate, when not a public one"`
	TemporalTLSServerCACertData  string        `env:"TEMPORAL_TLS_SERVER_CA_CERT_DATA" desc:"the same CA as PEM text instead of a path"`
	TemporalTLSServerName        string        `env:"TEMPORAL_TLS_SERVER_NAME" desc:"the name the server's certificate must carry (SNI), when not the host of the address"`
	TemporalTLSDisableHostVerify string        `env:"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION" check:"oneof:true false 1 0" desc:"'true' accepts any server certificate: for tests only"`
	TemporalProfile              string        `env:"TEMPORAL_PROFILE" desc:"the profile of the Temporal config file to use; unset: 'default' when the file has one. The 'TEMPORAL_*' variables override what it says"`
	TemporalConfigFile           string        `env:"TEMPORAL_CONFIG_FILE" desc:"the Temporal config file (TOML, '[profile.NAME]' tables, as 'temporal config' writes it); unset: '$XDG_CONFIG_HOME/temporalio/temporal.toml' ('~/.config/…') when it exists"`

	MasterKey         redact.Secret `env:"APP_MASTER_KEY" desc:"64 hex characters (32 bytes, 'openssl rand -hex 32'). Seals stored API keys (AES-256-GCM) and, through HKDF-SHA256, workflow payloads. Required by 'worker', 'bot', 'codec-server' and 'keys rotate'; 'tzurot dev' makes one in '.data/dev-master-key'"`
	MasterKeyPrevious redact.Secret `env:"APP_MASTER_KEY_PREVIOUS" desc:"the key being rotated away from: stored keys and payloads sealed with it still open"`

	OpenRouterAPIKey  redact.Secret `env:"OPENROUTER_API_KEY" desc:"the operator's OpenRouter key, for users without one, as 'GUEST_MODE' allows"`
	OpenRouterBaseURL string        `env:"OPENROUTER_BASE_URL" envDefault:"https://openrouter.ai/api/v1" check:"url" desc:"http(s) URL of the OpenRouter API; a trailing '/' is dropped"`
	GuestMode         GuestMode     `env:"GUEST_MODE" envDefault:"free" check:"oneof:off free all" desc:"what users without a key may do: 'off' nothing; 'free' only models ending ':free' and 'openrouter/free'; 'all' any model. Case-insensitive"`
	// EmbeddingModel makes the embeddings of long-term memory.
	EmbeddingModel string `env:"EMBEDDING_MODEL" envDefault:"openai/text-embedding-3-small" desc:"the OpenRouter embedding model of long-term memory ('POST /embeddings'); memories made with another model are not recalled, so changing it starts memory afresh"`

	// VisionModel describes images for models that take none.
	VisionModel string `env:"VISION_MODEL" envDefault:"google/gemma-3-27b-it:free" desc:"the OpenRouter model that describes a message's images when the personality's model takes no images (its 'architecture.input_modalities' in 'GET /models' lacks 'image') and its 'vision_model' is unset"`

	DiscordToken      redact.Secret `env:"DISCORD_TOKEN" desc:"the Discord bot token"`
	DiscordAPIBase    string        `env:"DISCORD_API_BASE" envDefault:"https://discord.com" check:"url" desc:"scheme and host that replace 'https://discord.com' in every Discord REST call"`
	DiscordDevGuildID string        `env:"DISCORD_DEV_GUILD_ID" check:"snowflake" desc:"register slash commands in this guild only (they appear at once). A Discord id: 5 to 20 digits"`
	BotOwnerDiscordID string        `env:"BOT_OWNER_DISCORD_ID" check:"snowflake" desc:"the operator: a superuser in the bot ('/admin', any personality) without a 'users' row; 'assign-ownership' makes them superuser and owner of ownerless personalities. A Discord id: 5 to 20 digits"`

	// BotShardID and BotShardCount are this bot process's gateway shard
	// (Config.Shard); both unset means one process with every guild.
	BotShardID    int        `env:"BOT_SHARD_ID" desc:"this bot process's Discord gateway shard, from '0' to 'BOT_SHARD_COUNT' - 1: it receives the events of the guilds whose '(guild_id >> 22) % BOT_SHARD_COUNT' equals it, and shard '0' also receives the DMs and registers the slash commands. Set both or neither; unset: one process, every guild"`
	BotShardCount ShardCount `env:"BOT_SHARD_COUNT" desc:"how many shards the bot runs as, one process each with its own 'BOT_SHARD_ID', all with the same count; 'auto' asks Discord's 'GET /gateway/bot' for its recommended 'shards' (Discord requires a shard per 2,500 guilds)"`

	ElevenLabsAPIKey  redact.Secret `env:"ELEVENLABS_API_KEY" desc:"the operator's ElevenLabs key; it speaks for users without a key only under 'GUEST_MODE=all'"`
	ElevenLabsBaseURL string        `env:"ELEVENLABS_BASE_URL" envDefault:"https://api.elevenlabs.io" check:"url" desc:"http(s) URL of the ElevenLabs API"`

	LimitImagesPerHour     int `env:"LIMIT_IMAGES_PER_HOUR" envDefault:"10" desc:"images per user in a rolling hour, every user; '0' switches the limit off"`
	LimitGuestTokensPerDay int `env:"LIMIT_GUEST_TOKENS_PER_DAY" envDefault:"50000" desc:"text tokens per user on the operator's key in a rolling 24 hours; '0' off"`
	// LimitGuestUSDPerDay caps what the operator's key spends on one user.
	LimitGuestUSDPerDay       Dollars `env:"LIMIT_GUEST_USD_PER_DAY" desc:"US dollars the operator's key may spend per user in a rolling 24 hours (OpenRouter's reported cost of every call for them: replies, image descriptions, memory, '/imagine'), e.g. '0.50'; checked before each reply on that key like the token limit. Unset or '0' off"`
	LimitWalletWritesPer15Min int     `env:"LIMIT_WALLET_WRITES_PER_15MIN" envDefault:"10" desc:"'/wallet set', 'remove' and 'test' per user in a rolling 15 minutes, counted in the bot process's memory; '0' off"`

	// RetentionDays, when set, is how long conversation turns and memories
	// are kept (internal/retention's daily schedule).
	RetentionDays Days `env:"RETENTION_DAYS" desc:"a whole number of days ≥ 1: conversation turns, memories and replies' delivery records older than this are purged by the daily schedule 'tzurot-retention-history' ('tzurot temporal setup' creates it). Unset: kept for good, and setup removes that schedule (a paused one is left paused, and setup says so)"`

	// MetricsAddr is where the worker and the bot serve /metrics, /healthz
	// and /readyz (internal/metrics); empty: not served.
	MetricsAddr string `env:"METRICS_ADDR" check:"hostport" desc:"'host:port' ('127.0.0.1:9464', ':9464' for every interface) where 'worker', 'bot' and 'tzurot dev' serve Prometheus '/metrics', '/healthz' (alive) and '/readyz' (Temporal, PostgreSQL and, for the bot, the Discord gateway connected); unset: not served"`

	OTLPEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT" desc:"OTLP/HTTP trace export; the exporter reads the other 'OTEL_*' variables itself"`

	// BackupDir is where data migrations put their pg_dump backups.
	BackupDir string `env:"MIGRATION_BACKUP_DIR" envDefault:".data/backups" desc:"where data migrations keep their 'pg_dump' backups (folder mode 0700, files 0600)"`

	// CodecCORSOrigins are the Web UI origins (scheme://host[:port]) whose
	// pages may call `tzurot codec-server` from the browser.
	CodecCORSOrigins []string `env:"CODEC_CORS_ORIGINS" envDefault:"http://127.0.0.1:8233,http://localhost:8233" desc:"comma-separated browser origins ('scheme://host[:port]': no path, no '*' or 'null'; lower-cased, trailing '/' dropped) whose pages may call the codec server: only they get 'Access-Control-Allow-Origin' and '-Credentials: true', and a request with any other 'Origin' is answered 403. Read by 'codec-server' and 'tzurot dev'"`
	// CodecAuthToken, when set, must accompany every codec request
	// (Authorization: Bearer <token>, or Basic with it as the password);
	// required when the codec server listens beyond loopback.
	CodecAuthToken redact.Secret `env:"CODEC_AUTH_TOKEN" check:"token" desc:"16 or more characters of 'A-Z a-z 0-9 - . _ ~ + / =' ('openssl rand -hex 32'). When set, every codec request but a CORS preflight needs 'Authorization: Bearer <token>' (CLI: '--codec-auth \"Bearer …\"') or HTTP Basic with the token as password (a browser signs in on the codec's page, then the Web UI sends it with \"Include cross-origin credentials\"), else 401 with 'Basic' and 'Bearer' challenges. 'codec-server -addr' beyond loopback (127.0.0.0/8, '::1', 'localhost') refuses to start without it, and warns in the log with it"`

	LogLevel  slog.Level `env:"LOG_LEVEL" envDefault:"info" desc:"'debug', 'info', 'warn' or 'error'"`
	LogFormat string     `env:"LOG_FORMAT" envDefault:"json" check:"oneof:json text" desc:"'json', or 'text' for humans"`

	// Set tells which variables were given explicitly, so `tzurot dev` knows
	// what it must provide itself (a database, a Temporal server).
	Set map[string]bool `env:"-"`

	// TemporalDevServer is set by `tzurot dev` when it runs (or reuses) the
	// local dev server: the connection is then plain text to
	// TemporalAddress, whatever a Temporal config file's default profile says.
	TemporalDevServer bool `env:"-"`
}

// Load reads a .env file in the working directory when there is one (real
// environment variables win), then the environment.
func Load() (Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Config{}, fmt.Errorf("read .env: %w", err)
	}
	return Parse(os.LookupEnv)
}

// Parse builds a Config from lookup (os.LookupEnv in production), which it
// asks for each declared variable and nothing else. Values are trimmed; a
// blank one counts as unset. Every bad value is reported at once, one line
// each, naming the variable and what it accepts.
func Parse(lookup func(string) (string, bool)) (Config, error) {
	c := Config{Set: map[string]bool{}}
	given := map[string]string{}
	for _, v := range Declared() {
		if s, ok := lookup(v.Name); ok && strings.TrimSpace(s) != "" {
			given[v.Name] = strings.TrimSpace(s)
			c.Set[v.Name] = true
		}
	}
	err := env.ParseWithOptions(&c, env.Options{Environment: given, FuncMap: parsers})
	errs := explain(err, given)
	rv := reflect.ValueOf(&c).Elem()
	for _, v := range Declared() {
		if v.check != "" {
			errs = append(errs, check(v, rv.FieldByIndex(v.index))...)
		}
	}
	if err := c.checkShard(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, checkCLINames(lookup)...)
	return c, errors.Join(errs...)
}

// ParseMap is Parse of the variables in env: for tests and tools that build
// a configuration without touching the process's environment.
func ParseMap(env map[string]string) (Config, error) {
	return Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

// Keyring validates the master keys and builds the keyring the worker and the
// bot need; its error is the one line to print at startup.
func (c Config) Keyring() (*keycrypt.Keyring, error) {
	return keycrypt.NewKeyring(c.MasterKey.Reveal(), c.MasterKeyPrevious.Reveal())
}

// LogValue shows every declared variable, keyed by its name in lower case,
// with each secret shown as [redact.Mask] ("(unset)" when empty).
func (c Config) LogValue() slog.Value {
	rv := reflect.ValueOf(c)
	attrs := make([]slog.Attr, 0, len(Declared()))
	for _, v := range Declared() {
		key, f := strings.ToLower(v.Name), rv.FieldByIndex(v.index)
		switch val := f.Interface().(type) {
		case redact.Secret:
			attrs = append(attrs, slog.String(key, mask(val)))
		case int:
			attrs = append(attrs, slog.Int(key, val))
		case []string:
			attrs = append(attrs, slog.String(key, strings.Join(val, ",")))
		default:
			attrs = append(attrs, slog.String(key, fmt.Sprint(val)))
		}
	}
	return slog.GroupValue(attrs...)
}

func mask(s redact.Secret) string {
	if s == "" {
		return "(unset)"
	}
	return redact.Mask
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
