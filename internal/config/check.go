package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/caarlos0/env/v11"
)

// parsers read the types whose values need more than the env library's own
// parsing; their errors say what is wrong without the variable's name, which
// explain adds.
var parsers = map[reflect.Type]env.ParserFunc{
	reflect.TypeFor[int](): func(v string) (any, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("must be a whole number ≥ 0, got %q", v)
		}
		return n, nil
	},
	reflect.TypeFor[ShardCount](): parseShardCount,
	// A blank or absent variable never reaches a parser: Days stays zero, unset.
	reflect.TypeFor[Days](): func(v string) (any, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Days(0), fmt.Errorf("must be a whole number of days ≥ 1, or unset to keep everything, got %q", v)
		}
		return Days(n), nil
	},
	// CODEC_CORS_ORIGINS is the only list; another would need a type of its own.
	reflect.TypeFor[[]string](): func(v string) (any, error) { return parseOrigins(v) },
}

// mustBe says what a value of a type parsed by its own UnmarshalText must
// be, for the error line, as that method's error does not say.
var mustBe = map[reflect.Type]string{
	reflect.TypeFor[slog.Level](): "debug, info, warn or error",
	reflect.TypeFor[Dollars]():    "an amount of US dollars, 0 or more, without a currency sign (0.50)",
}

// explain turns the env library's errors into one line per problem, each
// starting with the variable's name.
func explain(err error, given map[string]string) []error {
	var agg env.AggregateError
	if err == nil {
		return nil
	}
	if !errors.As(err, &agg) {
		return []error{err}
	}
	var out []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			out = append(out, e)
			continue
		}
		v, _ := byField(pe.Name) // env parses declared fields only
		if what, ok := mustBe[pe.Type]; ok {
			out = append(out, fmt.Errorf("%s must be %s, got %q", v.Name, what, given[v.Name]))
			continue
		}
		problems := []error{pe.Err}
		if j, ok := pe.Err.(interface{ Unwrap() []error }); ok {
			problems = j.Unwrap()
		}
		for _, p := range problems {
			out = append(out, fmt.Errorf("%s %w", v.Name, p))
		}
	}
	return out
}

// check applies a field's check tag to the value env parsed, normalising it
// in place; it returns one error per problem, without echoing a secret.
func check(v Variable, f reflect.Value) []error {
	s := f.String()
	rule, arg, _ := strings.Cut(v.check, ":")
	switch rule {
	case "url":
		s = strings.TrimRight(s, "/")
		f.SetString(s)
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return []error{fmt.Errorf("%s must be an http(s) URL such as %s, got %q", v.Name, v.Default, s)}
		}
	case "oneof":
		s = strings.ToLower(s)
		f.SetString(s)
		allowed := strings.Fields(arg)
		if s != "" && !slices.Contains(allowed, s) { // unset, with no default: allowed
			last := len(allowed) - 1
			return []error{fmt.Errorf("%s must be %s or %s, got %q", v.Name, strings.Join(allowed[:last], ", "), allowed[last], s)}
		}
	case "snowflake":
		if s != "" && !IsSnowflake(s) {
			return []error{fmt.Errorf("%s must be a Discord id (5 to 20 digits), got %q", v.Name, s)}
		}
	case "hostport":
		// A port is a number 0–65535 (0: any free one), as net.Listen
		// takes it; checked here so a bad one stops the start, not the
		// first listen.
		if s == "" {
			return nil
		}
		if _, port, err := net.SplitHostPort(s); err != nil || port == "" || !isPort(port) {
			return []error{fmt.Errorf("%s must be host:port with a port from 0 to 65535, such as 127.0.0.1:9464 or :9464, got %q", v.Name, s)}
		}
	case "token":
		if s != "" && !isToken68(s) {
			return []error{fmt.Errorf("%s must be at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (openssl rand -hex 32 makes one)", v.Name)}
		}
	default:
		panic(fmt.Sprintf("config: field %s has an unknown check %q", v.Field, v.check))
	}
	return nil
}

// isPort says whether p is a TCP port number, 0 to 65535, in decimal.
func isPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n <= 65535 && !strings.HasPrefix(p, "+")
}

// IsSnowflake says whether s can be a Discord id: a snowflake, written in
// decimal (https://discord.com/developers/docs/reference#snowflakes), 5 to
// 20 digits. The rule of every id variable here, and of ids users type.
func IsSnowflake(s string) bool {
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
// (`tzurot dev`, `temporal server start-dev`), under both of its names: the
// envDefault of CODEC_CORS_ORIGINS (a test keeps the two equal).
const DefaultCodecCORSOrigins = "http://127.0.0.1:8233,http://localhost:8233"

// parseOrigins reads a comma-separated list of browser origins as the
// Origin header carries them (RFC 6454 serialisation: scheme://host[:port],
// no path); a trailing "/" is dropped. "*" and "null" are refused: the codec
// answers with credentials allowed, which the CORS rules forbid with "*",
// and "null" is any sandboxed page. Its error joins one per bad origin.
func parseOrigins(v string) ([]string, error) {
	var out []string
	var errs []error
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			errs = append(errs, fmt.Errorf("must be comma-separated origins such as http://127.0.0.1:8233 (scheme://host[:port], no path, no *), got %q", o))
			continue
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("lists no origin; leave it unset for %s", DefaultCodecCORSOrigins))
	}
	return out, errors.Join(errs...)
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
