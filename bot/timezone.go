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

// zoneAliases are what people type instead of an IANA name. Abbreviations
// map to a city zone rather than tzdata's fixed-offset "EST" and friends,
// which never observe daylight saving time and so are wrong half the year.
var zoneAliases = map[string]string{
	"utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC", "etc/utc": "UTC", "universal": "UTC",
	"et": "America/New_York", "est": "America/New_York", "edt": "America/New_York", "eastern": "America/New_York",
	"ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago", "central": "America/Chicago",
	"mt": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver", "mountain": "America/Denver",
	"pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pacific": "America/Los_Angeles",
	"bst": "Europe/London", "uk": "Europe/London",
	"cet": "Europe/Paris", "cest": "Europe/Paris",
	"ist": "Asia/Kolkata", "jst": "Asia/Tokyo", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
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
		// A shortcut that is also an IANA name ("EST") offers the city
		// zone people usually mean right after it.
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

// resolveZone turns what the user typed into a location: any zone of the
// IANA database embedded by time/tzdata (https://www.iana.org/time-zones) in any case,
// stored in the database's own spelling, else a shortcut (zoneAliases). Links keep their own name
// (asia/calcutta is Asia/Calcutta, not Asia/Kolkata).
func resolveZone(typed string) (*time.Location, error) {
	name := strings.TrimSpace(typed)
	// An IANA name wins over a shortcut: "EST" is the zone of that name
	// (UTC-5 all year), as the IANA database defines it; the shortcuts
	// serve only words that are no zone's name ("Eastern", "PT", "IST").
	if z, ok := zonesByFold()[strings.ToLower(name)]; ok {
		name = z
	} else if canonical, ok := zoneAliases[strings.ToLower(name)]; ok {
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
