//go:build integration

package bot_test

import (
	"archive/zip"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/bot"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/itest"
)

const (
	tzAmy = "100000000000000021"
	tzBen = "100000000000000022"
)

// storedZone is the user's saved zone, "" when there is no users row.
func (w *world) storedZone(t *testing.T, discordID string) string {
	t.Helper()
	u, err := w.DB.User.Query().Where(user.DiscordID(discordID)).Only(context.Background())
	if err != nil {
		return ""
	}
	return u.Timezone
}

func TestTimezoneSetAndGet(t *testing.T) {
	w := newWorld(t, itest.Options{})
	// The steps run in order for one user: each starts from the last one's zone.
	cases := []struct {
		name   string
		userID string
		sub    string
		zone   string
		want   string // what the user is told, in part
		stored string // the zone in users afterwards
	}{
		{"get before any set is the default", tzAmy, "get", "", "Your time zone is UTC (the default", ""},
		{"a listed zone creates the row", tzAmy, "set", "America/New_York",
			"Saved: your time zone is America/New_York, where it is 07:00 on Monday 23 November (UTC-05:00) now.", "America/New_York"},
		{"get shows the zone and its time", tzAmy, "get", "", "Your time zone is America/New_York; it is 07:00 on Monday 23 November", "America/New_York"},
		{"any case of a listed zone", tzAmy, "set", "europe/london", "your time zone is Europe/London", "Europe/London"},
		{"an alias", tzAmy, "set", " utc ", "your time zone is UTC,", "UTC"},
		{"a standard-time abbreviation is its offset all year", tzAmy, "set", "PST",
			"Saved: your time zone is Etc/GMT+8, where it is 04:00 on Monday 23 November (UTC-08:00) now.", "Etc/GMT+8"},
		{"a daylight-time abbreviation is refused with the zones to use", tzAmy, "set", "edt",
			"“EDT” is summer time only: pick America/New_York to follow the clock changes, or Etc/GMT+4 for UTC-04:00 all year.", "Etc/GMT+8"},
		{"a region word is its city zone", tzAmy, "set", "Pacific", "your time zone is America/Los_Angeles", "America/Los_Angeles"},
		{"a valid zone not in the list", tzAmy, "set", "America/Boise", "your time zone is America/Boise", "America/Boise"},
		{"any case of a zone not in the list", tzAmy, "set", "america/argentina/buenos_aires",
			"your time zone is America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
		{"a legacy link in any case keeps its own name", tzAmy, "set", "asia/calcutta", "your time zone is Asia/Calcutta", "Asia/Calcutta"},
		{"a legacy link as tzdata spells it", tzAmy, "set", "Asia/Calcutta", "your time zone is Asia/Calcutta", "Asia/Calcutta"},
		{"an Etc zone in capitals", tzAmy, "set", "ETC/GMT+5", "your time zone is Etc/GMT+5", "Etc/GMT+5"},
		{"a zone name alone", tzAmy, "set", "eire", "your time zone is Eire", "Eire"},
		{"a name only a host's zoneinfo has is refused", tzAmy, "set", "posix/Europe/London", "is not a time zone name", "Eire"},
		{"a valid zone not in the list again", tzAmy, "set", "AMERICA/BOISE", "your time zone is America/Boise", "America/Boise"},
		{"an unknown zone is refused, nothing changes", tzAmy, "set", "Mars/Olympus",
			"“Mars/Olympus” is not a time zone name; pick one from the list, e.g. Europe/London or America/New_York.", "America/Boise"},
		{"the server's own zone is not a choice", tzAmy, "set", "Local", "“Local” is not a time zone name", "America/Boise"},
		{"a path is not a zone", tzAmy, "set", "../../etc/passwd", "is not a time zone name", "America/Boise"},
		{"a refusal creates no row", tzBen, "set", "Nowhere/Special", "“Nowhere/Special” is not a time zone name", ""},
		{"get after the refusals", tzAmy, "get", "", "Your time zone is America/Boise;", "America/Boise"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []*discordgo.ApplicationCommandInteractionDataOption
			if tc.zone != "" {
				opts = append(opts, str("zone", tc.zone))
			}
			text := w.ephemeralText(t, w.slash(tc.userID, "timezone", tc.sub, opts...))
			if !strings.Contains(text, tc.want) {
				t.Errorf("told %q, want it to contain %q", text, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(text), "\n"); n != 0 {
				t.Errorf("told %q: %d lines, want one", text, n+1)
			}
			if got := w.storedZone(t, tc.userID); got != tc.stored {
				t.Errorf("stored zone %q, want %q", got, tc.stored)
			}
		})
	}
}

// zoneChoices runs the autocomplete of /timezone set with typed in the zone
// option, and returns the choices' values in order.
func (w *world) zoneChoices(t *testing.T, typed string) []string {
	t.Helper()
	var out []string
	for _, c := range w.autocomplete(t, tzAmy, "timezone", "set", focused("zone", typed)) {
		if !strings.HasPrefix(c.name, c.value+" (UTC") {
			t.Errorf("choice %q for %q does not show the offset", c.name, c.value)
		}
		out = append(out, c.value)
	}
	return out
}

func TestTimezoneAutocomplete(t *testing.T) {
	w := newWorld(t, itest.Options{})
	cases := []struct {
		name  string
		typed string
		check func(t *testing.T, got []string)
	}{
		{"substring in any case", "LOND", func(t *testing.T, got []string) {
			if len(got) != 1 || got[0] != "Europe/London" {
				t.Errorf("choices %v, want [Europe/London]", got)
			}
		}},
		{"nothing typed lists at most 25", "", func(t *testing.T, got []string) {
			if len(got) != 25 {
				t.Errorf("%d choices, want 25", len(got))
			}
		}},
		{"an IANA name comes first, the zone its shortcut means next", "est", func(t *testing.T, got []string) {
			if len(got) < 2 || got[0] != "EST" || got[1] != "America/New_York" {
				t.Errorf("choices %v, want EST then America/New_York", got)
			}
		}},
		{"a shortcut that is no zone's name offers its zone", "eastern", func(t *testing.T, got []string) {
			if len(got) == 0 || got[0] != "America/New_York" {
				t.Errorf("choices %v, want America/New_York first", got)
			}
		}},
		{"a valid zone outside the list is offered", "America/Boise", func(t *testing.T, got []string) {
			if len(got) != 1 || got[0] != "America/Boise" {
				t.Errorf("choices %v, want [America/Boise]", got)
			}
		}},
		{"a zone typed in another case is offered as tzdata spells it", "asia/calcutta", func(t *testing.T, got []string) {
			if len(got) != 1 || got[0] != "Asia/Calcutta" {
				t.Errorf("choices %v, want [Asia/Calcutta]", got)
			}
		}},
		{"a city outside the common list is found by part of its name", "boise", func(t *testing.T, got []string) {
			if len(got) != 1 || got[0] != "America/Boise" {
				t.Errorf("choices %v, want [America/Boise]", got)
			}
		}},
		{"every zone containing the text when no common one does", "indiana", func(t *testing.T, got []string) {
			if len(got) < 5 || !slices.Contains(got, "America/Indiana/Indianapolis") || !slices.Contains(got, "America/Indiana/Knox") {
				t.Errorf("choices %v, want the America/Indiana/… zones", got)
			}
		}},
		{"nothing matches", "Mars/Olympus", func(t *testing.T, got []string) {
			if len(got) != 0 {
				t.Errorf("choices %v, want none", got)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, w.zoneChoices(t, tc.typed))
		})
	}

	// Each region fits in one answer, so this covers the whole list: every
	// zone offered must be one /timezone set accepts.
	seen := 0
	for _, region := range []string{"UTC", "America/", "Pacific/", "Europe/", "Africa/", "Asia/", "Australia/"} {
		got := w.zoneChoices(t, region)
		if len(got) == 0 || len(got) >= 25 {
			t.Errorf("%s: %d choices, want 1 to 24 so none are cut off", region, len(got))
		}
		for _, z := range got {
			if _, err := time.LoadLocation(z); err != nil {
				t.Errorf("%s is offered but does not load: %v", z, err)
			}
		}
		seen += len(got)
	}
	if seen < 50 {
		t.Errorf("only %d zones offered across the regions", seen)
	}
}

// Every zone of the zone database, in any case, is accepted and stored as the
// database spells it; the generated list is the whole database of the Go
// toolchain running the test (run go generate ./bot after a Go upgrade).
func TestEveryIANAZoneInAnyCase(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	zr, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Fatalf("the toolchain's zone database: %v", err)
	}
	defer zr.Close()
	var want []string
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "/") {
			want = append(want, f.Name)
		}
	}
	slices.Sort(want)
	if got := bot.IANAZones(); !slices.Equal(got, want) {
		t.Fatalf("bot/zones_gen.go lists %d zones, the toolchain's database %d: run go generate ./bot", len(got), len(want))
	}
	if len(want) < 500 {
		t.Fatalf("only %d zones in the database", len(want))
	}
	folded := map[string]string{}
	for _, z := range want {
		if other, ok := folded[strings.ToLower(z)]; ok {
			t.Errorf("%s and %s differ only in case", z, other)
		}
		folded[strings.ToLower(z)] = z
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("%s does not load: %v", z, err)
		}
	}
	abbreviations := bot.ZoneAbbreviations()
	for _, z := range want {
		if slices.Contains(abbreviations, strings.ToLower(z)) {
			continue // CET, EST…: TestZoneAbbreviationsAreFixedOffsets
		}
		for _, typed := range []string{z, strings.ToLower(z), strings.ToUpper(z), " " + swapCase(z) + " "} {
			stored, err := bot.ResolveZone(typed)
			// Every IANA name is itself, shortcuts notwithstanding: EST is
			// UTC-5 all year, not New York.
			if err != nil || stored != z {
				t.Errorf("%q: stored %q, %v; want %q", typed, stored, err, z)
			}
		}
	}
}

// swapCase turns every letter's case around: "Asia/Kolkata" → "aSIA/kOLKATA".
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		if l := strings.ToLower(string(r)); l != string(r) {
			return []rune(l)[0]
		}
		return []rune(strings.ToUpper(string(r)))[0]
	}, s)
}

// A time-zone abbreviation names one UTC offset, so it is stored as a zone
// with that offset in January and in July alike; a daylight-time name is
// refused, naming the city zone that follows the clock changes and the fixed
// zone of that offset (Etc/GMT's sign is inverted: Etc/GMT+4 is UTC-4).
// IANA's own CET, EET, WET and MET have summer time, so they lose to the
// abbreviation; EST, MST, HST and GMT are IANA's fixed zones themselves.
func TestZoneAbbreviationsAreFixedOffsets(t *testing.T) {
	const h = 60 * time.Minute
	cases := []struct {
		typed   string
		stored  string        // "" when refused
		offset  time.Duration // all year
		refusal string
	}{
		{"UTC", "UTC", 0, ""},
		{"gmt", "GMT", 0, ""},
		{"EST", "EST", -5 * h, ""},
		{"CST", "Etc/GMT+6", -6 * h, ""},
		{"MST", "MST", -7 * h, ""},
		{"pst", "Etc/GMT+8", -8 * h, ""},
		{"AKST", "Etc/GMT+9", -9 * h, ""},
		{"HST", "HST", -10 * h, ""},
		{"WET", "Etc/GMT", 0, ""},
		{"CET", "Etc/GMT-1", 1 * h, ""},
		{"met", "Etc/GMT-1", 1 * h, ""},
		{"EET", "Etc/GMT-2", 2 * h, ""},
		{"IST", "Asia/Kolkata", 5*h + 30*time.Minute, ""},
		{"JST", "Asia/Tokyo", 9 * h, ""},
		{"AEST", "Etc/GMT-10", 10 * h, ""},
		{"EDT", "", 0, "pick America/New_York to follow the clock changes, or Etc/GMT+4 for UTC-04:00 all year."},
		{"CDT", "", 0, "pick America/Chicago to follow the clock changes, or Etc/GMT+5 for UTC-05:00 all year."},
		{"MDT", "", 0, "pick America/Denver to follow the clock changes, or Etc/GMT+6 for UTC-06:00 all year."},
		{"pdt", "", 0, "pick America/Los_Angeles to follow the clock changes, or Etc/GMT+7 for UTC-07:00 all year."},
		{"AKDT", "", 0, "pick America/Anchorage to follow the clock changes, or Etc/GMT+8 for UTC-08:00 all year."},
		{"BST", "", 0, "pick Europe/London to follow the clock changes, or Etc/GMT-1 for UTC+01:00 all year."},
		{"WEST", "", 0, "pick Europe/Lisbon to follow the clock changes, or Etc/GMT-1 for UTC+01:00 all year."},
		{"CEST", "", 0, "pick Europe/Paris to follow the clock changes, or Etc/GMT-2 for UTC+02:00 all year."},
		{"EEST", "", 0, "pick Europe/Athens to follow the clock changes, or Etc/GMT-3 for UTC+03:00 all year."},
		{"AEDT", "", 0, "pick Australia/Sydney to follow the clock changes, or Etc/GMT-11 for UTC+11:00 all year."},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[strings.ToLower(tc.typed)] = true
		stored, err := bot.ResolveZone(tc.typed)
		if tc.stored == "" {
			want := "“" + strings.ToUpper(tc.typed) + "” is summer time only: " + tc.refusal
			if err == nil || err.Error() != want {
				t.Errorf("%s: stored %q, %v; want the refusal %q", tc.typed, stored, err, want)
			}
			continue
		}
		if err != nil || stored != tc.stored {
			t.Errorf("%s: stored %q, %v; want %s", tc.typed, stored, err, tc.stored)
			continue
		}
		loc, _ := time.LoadLocation(stored)
		for _, month := range []time.Month{time.January, time.July} {
			_, off := time.Date(2026, month, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone()
			if got := time.Duration(off) * time.Second; got != tc.offset {
				t.Errorf("%s is stored as %s, UTC%+v in %s; want UTC%+v all year", tc.typed, stored, got, month, tc.offset)
			}
		}
	}
	for _, a := range bot.ZoneAbbreviations() {
		if !covered[a] {
			t.Errorf("the abbreviation %q has no case here", a)
		}
	}
}
