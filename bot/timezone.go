package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	// The zone database is embedded so that the zones /timezone accepts are
	// the same on every host, including images without /usr/share/zoneinfo;
	// otherwise a zone saved here could silently become UTC in the prompt.
	_ "time/tzdata"

	"github.com/bwmarrin/discordgo"
)

//go:generate go run ../internal/tools/zonegen -pkg bot -o zones_gen.go

// zonesByFold maps every zone name of the embedded zone database, folded to
// lower case, to its spelling there, so "asia/kolkata" is Asia/Kolkata. IANA
// names never differ only in case, so the map loses nothing (a test checks).
// Legacy link names such as Asia/Calcutta (tzdata's "backward" file) are kept
// as the user gave them, in their canonical case: they load the same rules,
// and the zone database Go embeds does not say which name a link points to.
var zonesByFold = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(ianaZones))
	for _, z := range ianaZones {
		m[strings.ToLower(z)] = z
	}
	return m
})

// commonZones are offered by autocomplete. Each region stays under Discord's
// 25 choices, so typing a region prefix ("Europe/") lists all of it.
var commonZones = []string{
	"UTC",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "America/Toronto", "America/Vancouver", "America/Halifax", "America/St_Johns",
	"America/Mexico_City", "America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo",
	"America/Argentina/Buenos_Aires", "America/Caracas",
	"Pacific/Honolulu", "Pacific/Auckland", "Pacific/Fiji",
	"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Brussels", "Europe/Stockholm", "Europe/Oslo", "Europe/Warsaw",
	"Europe/Prague", "Europe/Vienna", "Europe/Zurich", "Europe/Athens", "Europe/Helsinki", "Europe/Kyiv",
	"Europe/Istanbul", "Europe/Moscow",
	"Africa/Cairo", "Africa/Lagos", "Africa/Johannesburg", "Africa/Nairobi", "Africa/Casablanca",
	"Asia/Jerusalem", "Asia/Riyadh", "Asia/Dubai", "Asia/Tehran", "Asia/Karachi", "Asia/Kolkata",
	"Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore", "Asia/Manila", "Asia/Hong_Kong",
	"Asia/Shanghai", "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo",
	"Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Australia/Melbourne",
}

// zoneAbbreviations are the time-zone abbreviations people type. Each names
// one UTC offset, not a region, so it never means a city zone that moves an
// hour in summer:
//   - a standard-time name (EST) is a zone with that offset all year: IANA's
//     fixed zone of that name when there is one (EST, MST, HST, GMT, UTC),
//     else Etc/GMT±N, whose sign is POSIX's and so inverted (Etc/GMT+8 is
//     UTC-8), or a city that has kept that offset for decades (Asia/Kolkata);
//     IANA's CET, EET, WET and MET are links to cities with summer time, so
//     the abbreviation wins over those names;
//   - a daylight-time name (EDT) is refused, naming the city zone that follows
//     the clock changes and the fixed zone of that offset: a user who types
//     it in summer rarely wants summer time all winter.
//
// city is the zone that follows the clock changes there; autocomplete offers
// it after the fixed zone. Sources: IANA tzdata's "northamerica", "europe" and
// "backward" files (https://www.iana.org/time-zones).
var zoneAbbreviations = map[string]struct {
	zone, city string
	daylight   bool
}{
	"utc": {"UTC", "", false}, "gmt": {"GMT", "Europe/London", false},
	"est": {"EST", "America/New_York", false}, "edt": {"Etc/GMT+4", "America/New_York", true},
	"cst": {"Etc/GMT+6", "America/Chicago", false}, "cdt": {"Etc/GMT+5", "America/Chicago", true},
	"mst": {"MST", "America/Denver", false}, "mdt": {"Etc/GMT+6", "America/Denver", true},
	"pst": {"Etc/GMT+8", "America/Los_Angeles", false}, "pdt": {"Etc/GMT+7", "America/Los_Angeles", true},
	"akst": {"Etc/GMT+9", "America/Anchorage", false}, "akdt": {"Etc/GMT+8", "America/Anchorage", true},
	"hst": {"HST", "Pacific/Honolulu", false},
	"bst": {"Etc/GMT-1", "Europe/London", true},
	"wet": {"Etc/GMT", "Europe/Lisbon", false}, "west": {"Etc/GMT-1", "Europe/Lisbon", true},
	"cet": {"Etc/GMT-1", "Europe/Paris", false}, "met": {"Etc/GMT-1", "Europe/Paris", false},
	"cest": {"Etc/GMT-2", "Europe/Paris", true},
	"eet":  {"Etc/GMT-2", "Europe/Athens", false}, "eest": {"Etc/GMT-3", "Europe/Athens", true},
	"ist": {"Asia/Kolkata", "", false}, "jst": {"Asia/Tokyo", "", false},
	"aest": {"Etc/GMT-10", "Australia/Sydney", false}, "aedt": {"Etc/GMT-11", "Australia/Sydney", true},
}

// zoneAliases are the region words people type instead of an IANA name
// ("Eastern", "PT"): they name a region's clock, summer time included, so
// they mean its city zone.
var zoneAliases = map[string]string{
	"z": "UTC", "zulu": "UTC", "etc/utc": "UTC", "universal": "UTC",
	"et": "America/New_York", "eastern": "America/New_York",
	"ct": "America/Chicago", "central": "America/Chicago",
	"mt": "America/Denver", "mountain": "America/Denver",
	"pt": "America/Los_Angeles", "pacific": "America/Los_Angeles",
	"uk": "Europe/London",
}

func (b *Bot) timezoneCommand() *command {
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "timezone", Description: "Your time zone: personalities use it for your local time",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "set", Description: "Set your time zone",
					Options: []*discordgo.ApplicationCommandOption{{
						Type: discordgo.ApplicationCommandOptionString, Name: "zone", Required: true, Autocomplete: true,
						Description: "An IANA zone such as Europe/London or America/New_York", MaxLength: 64,
					}}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "get", Description: "Show your time zone and the time there now"},
			},
		},
		run:          b.timezone,
		autocomplete: b.timezoneAutocomplete,
	}
}

func (b *Bot) timezone(ctx context.Context, in *Interaction) error {
	switch in.Subcommand() {
	case "set":
		return b.timezoneSet(ctx, in)
	case "get":
		return b.timezoneGet(ctx, in)
	}
	return UserError("Unknown /timezone subcommand; use /timezone set or /timezone get.")
}

func (b *Bot) timezoneSet(ctx context.Context, in *Interaction) error {
	typed := in.String("zone")
	loc, err := resolveZone(typed)
	if err != nil {
		return err
	}
	// The row may not exist yet: the user may set a zone before ever
	// talking to a personality.
	if err := b.store.SetTimezone(ctx, in.UserID, in.Username, loc.String()); err != nil {
		return fmt.Errorf("save time zone: %w", err)
	}
	return in.Reply(fmt.Sprintf("Saved: your time zone is %s, where it is %s now. Personalities will use it for your local time.",
		loc.String(), localClock(b.Now(), loc)))
}

func (b *Bot) timezoneGet(ctx context.Context, in *Interaction) error {
	u, err := b.store.User(ctx, in.UserID)
	if err != nil {
		return err
	}
	name, note := "UTC", " (the default; change it with /timezone set)"
	if u != nil {
		name, note = u.Timezone, ""
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		// A zone stored before this check existed, or removed from tzdata:
		// the prompt falls back to UTC, so say so.
		return UserError("Your saved time zone “%s” is no longer recognised, so UTC is used; set a new one with /timezone set.", name)
	}
	return in.Reply(fmt.Sprintf("Your time zone is %s%s; it is %s there now.", loc.String(), note, localClock(b.Now(), loc)))
}

func (b *Bot) timezoneAutocomplete(_ context.Context, in *Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	_, typed := in.Focused()
	typed = strings.TrimSpace(typed)
	q := strings.ToLower(typed)
	now := b.Now()
	var out []*discordgo.ApplicationCommandOptionChoice
	seen := map[string]bool{}
	add := func(zone string) {
		if seen[zone] || len(out) >= 25 {
			return
		}
		seen[zone] = true
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: zoneChoiceName(zone, now), Value: zone})
	}
	// What the user typed comes first when it already names a zone, so a
	// valid zone missing from the list, or an alias, is one keypress away.
	if typed != "" {
		if loc, err := resolveZone(typed); err == nil {
			add(loc.String())
		}
		// An abbreviation ("EST", "EDT") offers, after its fixed zone, the
		// city zone that follows the clock changes; a region word its zone.
		if a, ok := zoneAbbreviations[q]; ok && a.city != "" {
			add(a.city)
		}
		if z, ok := zoneAliases[q]; ok {
			add(z)
		}
	}
	common := len(out)
	for _, z := range commonZones {
		if strings.Contains(strings.ToLower(z), q) {
			add(z)
		}
	}
	// A city outside the common list ("boise", "calcutta") is still found,
	// but only when the common list has nothing, so a region prefix keeps
	// listing the common zones of that region.
	if q != "" && len(out) == common {
		for _, z := range ianaZones {
			if strings.Contains(strings.ToLower(z), q) {
				add(z)
			}
		}
	}
	return out, nil
}

// resolveZone turns what the user typed into a location: an abbreviation
// (zoneAbbreviations: a fixed offset, or refused for daylight time), else
// any zone of the IANA database embedded by time/tzdata
// (https://www.iana.org/time-zones) in any case, stored in the database's own
// spelling, else a region word (zoneAliases). Links keep their own name
// (asia/calcutta is Asia/Calcutta, not Asia/Kolkata).
func resolveZone(typed string) (*time.Location, error) {
	name := strings.TrimSpace(typed)
	folded := strings.ToLower(name)
	if a, ok := zoneAbbreviations[folded]; ok && a.daylight {
		return nil, UserError("“%s” is summer time only: pick %s to follow the clock changes, or %s for UTC%s all year.",
			strings.ToUpper(folded), a.city, a.zone, fixedOffset(a.zone))
	} else if ok {
		name = a.zone
	} else if z, ok := zonesByFold()[folded]; ok {
		name = z
	} else if canonical, ok := zoneAliases[folded]; ok {
		name = canonical
	} else {
		// Only the embedded database's names: a name found only in this
		// host's /usr/share/zoneinfo (posix/…, right/…) might not load on the
		// worker, and "Local" (this server's zone) or "" (UTC) are not what a
		// user means.
		return nil, badZone(typed)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, badZone(typed)
	}
	return loc, nil
}

// fixedOffset is a fixed zone's offset as ±hh:mm.
func fixedOffset(zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return ""
	}
	return time.Unix(0, 0).In(loc).Format("-07:00")
}

func badZone(typed string) error {
	return UserError("“%s” is not a time zone name; pick one from the list, e.g. Europe/London or America/New_York.",
		truncateRunes(strings.TrimSpace(typed), 64))
}

// zoneChoiceName shows the offset in force now, which helps pick between
// neighbouring cities without knowing their rules.
func zoneChoiceName(zone string, now time.Time) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return zone
	}
	return zone + " (UTC" + now.In(loc).Format("-07:00") + ")"
}

// localClock is the wall-clock time in loc, with the date so that a zone on
// the other side of midnight is obvious.
func localClock(now time.Time, loc *time.Location) string {
	t := now.In(loc)
	return t.Format("15:04 on Monday 2 January") + " (UTC" + t.Format("-07:00") + ")"
}
