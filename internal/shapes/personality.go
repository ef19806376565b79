package shapes

import (
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tzurot/tzurot/internal/llmparams"
)

// slugPattern is the bot's rule for personality names; a name outside it
// could not be typed in /personality commands.
var slugPattern = regexp.MustCompile(`^[a-z0-9-]{2,64}$`)

// maxModelID is llm_configs.model's varchar(100).
const maxModelID = 100

// cardFields maps shapes.inc keys onto the card columns. The README spells
// the prefix once for the whole list (personality_traits|tone|...), so the
// unprefixed spelling of the last two is accepted as well; the first key
// present wins.
var cardFields = []struct {
	keys   []string
	column string
}{
	{[]string{"personality_traits"}, "personality_traits"},
	{[]string{"personality_tone"}, "personality_tone"},
	{[]string{"personality_age"}, "personality_age"},
	{[]string{"personality_appearance"}, "personality_appearance"},
	{[]string{"personality_likes"}, "personality_likes"},
	{[]string{"personality_dislikes"}, "personality_dislikes"},
	{[]string{"personality_conversational_goals", "conversational_goals"}, "conversational_goals"},
	{[]string{"personality_conversational_examples", "conversational_examples"}, "conversational_examples"},
}

var historyKeys = []string{"personality_history", "history"}

// engineParams maps shapes.inc's engine_* fields onto llmparams. Each value
// is validated on its own so that one bad setting costs only itself.
var engineParams = []struct {
	key     string
	integer bool
	set     func(p *llmparams.Params, v float64)
}{
	{"engine_temperature", false, func(p *llmparams.Params, v float64) { p.Temperature = &v }},
	{"engine_top_p", false, func(p *llmparams.Params, v float64) { p.TopP = &v }},
	{"engine_top_k", true, func(p *llmparams.Params, v float64) { n := int(v); p.TopK = &n }},
	{"engine_frequency_penalty", false, func(p *llmparams.Params, v float64) { p.FrequencyPenalty = &v }},
	{"engine_presence_penalty", false, func(p *llmparams.Params, v float64) { p.PresencePenalty = &v }},
	{"engine_repetition_penalty", false, func(p *llmparams.Params, v float64) { p.RepetitionPenalty = &v }},
	{"engine_min_p", false, func(p *llmparams.Params, v float64) { p.MinP = &v }},
	{"engine_top_a", false, func(p *llmparams.Params, v float64) { p.TopA = &v }},
}

// voiceSliders are the voice_configs columns that must lie in 0..1.
var voiceSliders = []struct {
	key string
	dst func(v *Voice) **float64
}{
	{"voice_stability", func(v *Voice) **float64 { return &v.Stability }},
	{"voice_similarity", func(v *Voice) **float64 { return &v.Similarity }},
	{"voice_style", func(v *Voice) **float64 { return &v.Style }},
	{"voice_frequency", func(v *Voice) **float64 { return &v.Frequency }},
}

// parsePersonality reads one <slug>.json. path is what problems are reported
// against; dirSlug is the directory's name, the fallback when the file's own
// username is unusable ("" when there is no directory, as in the fuzz
// target). ok is false when the file cannot become a personality at all.
// Aliases and history are not this file's business; Load adds them.
func parsePersonality(path, dirSlug string, data []byte) (p Personality, problems []Problem, ok bool) {
	r := &report{path: path}
	doc, ok := decodeObject(r, data, "personality not imported")
	if !ok {
		return Personality{}, r.list, false
	}
	o := object{m: doc, r: r}
	p.SourcePath = path

	if p.Name, ok = readName(o, dirSlug); !ok {
		return Personality{}, r.list, false
	}

	p.ShapeID = trimmed(o, "id")
	if p.ShapeID == "" {
		r.add("id", "missing; the registry entry is matched by username instead")
	}
	p.DisplayName = trimmed(o, "name")
	p.AvatarURL = readAvatar(o)
	p.SystemPrompt = longText(o, "jailbreak")
	p.CharacterInfo = longText(o, "user_prompt")
	if h := longText(o, firstPresent(o, historyKeys)); h != "" {
		if p.CharacterInfo != "" {
			p.CharacterInfo += "\n\n"
		}
		p.CharacterInfo += h
	}
	for _, c := range cardFields {
		if v := longText(o, firstPresent(o, c.keys)); v != "" {
			if p.Card == nil {
				p.Card = map[string]string{}
			}
			p.Card[c.column] = v
		}
	}
	p.ErrorMessage = longText(o, "error_message")
	p.BirthMonth, p.BirthDay, p.BirthYear = readBirthday(o)
	p.Model = readModel(o)
	p.Params = readParams(o)
	p.Voice = readVoice(o)
	return p, r.list, true
}

func readName(o object, dirSlug string) (string, bool) {
	name := trimmed(o, "username")
	switch {
	case slugPattern.MatchString(name):
		if dirSlug != "" && name != dirSlug {
			o.r.add("username", "%s differs from the directory name %s; imported as %s", quote(name), quote(dirSlug), quote(name))
		}
		return name, true
	case slugPattern.MatchString(dirSlug):
		if name == "" {
			o.r.add("username", "missing; imported under the directory name %s", quote(dirSlug))
		} else {
			o.r.add("username", "%s is not a valid name (2 to 64 of a-z, 0-9 and -); imported under the directory name %s", quote(name), quote(dirSlug))
		}
		return dirSlug, true
	case name == "":
		o.r.add("username", "missing; personality not imported")
	default:
		o.r.add("username", "%s is not a valid name (2 to 64 of a-z, 0-9 and -); personality not imported", quote(name))
	}
	return "", false
}

// firstPresent returns the first of keys the object has, or the first key
// when it has none, so that absence reads as absence.
func firstPresent(o object, keys []string) string {
	for _, k := range keys {
		if o.present(k) {
			return k
		}
	}
	return keys[0]
}

// trimmed reads a one-line value, where surrounding blanks are accidents.
func trimmed(o object, key string) string {
	s, _ := o.text(key)
	return strings.TrimSpace(s)
}

// longText reads prose as written; only a blank value counts as absent,
// since leading indentation or a trailing newline may be deliberate.
func longText(o object, key string) string {
	s, _ := o.text(key)
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return s
}

func readAvatar(o object) string {
	s := trimmed(o, "avatar")
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		o.r.add("avatar", "%s is not an http(s) URL; imported without an avatar", quote(s))
		return ""
	}
	return s
}

func readBirthday(o object) (month, day, year int) {
	v, ok := o.m["birthday"]
	if !ok || v == nil {
		return 0, 0, 0
	}
	s, isText := v.(string)
	if !isText {
		// A number such as 1017 is not converted: it could be MMDD or DDMM.
		o.r.add("birthday", "expected text MM-DD or YYYY-MM-DD, got %s; imported without a birthday", describe(v))
		return 0, 0, 0
	}
	if strings.TrimSpace(s) == "" {
		return 0, 0, 0
	}
	m, d, y, err := parseBirthday(s)
	if err != nil {
		o.r.add("birthday", "birthday %s %v; imported without a birthday", quote(s), err)
		return 0, 0, 0
	}
	return m, d, y
}

var (
	errNotDate  = errors.New("is not a date (MM-DD or YYYY-MM-DD)")
	errNotReal  = errors.New("is not a real date")
	birthdayFmt = regexp.MustCompile(`^(?:([0-9]{4})-)?([0-9]{2})-([0-9]{2})$`)
)

// parseBirthday accepts MM-DD and YYYY-MM-DD, the same rule as the
// custom_fields migration so both routes agree on what a birthday is. Year
// 0 means unknown; 02-29 without a year is accepted because some year has it.
func parseBirthday(s string) (month, day, year int, err error) {
	g := birthdayFmt.FindStringSubmatch(strings.TrimSpace(s))
	if g == nil {
		return 0, 0, 0, errNotDate
	}
	if g[1] != "" {
		year, _ = strconv.Atoi(g[1])
		if year < 1 {
			return 0, 0, 0, errNotReal
		}
	}
	month, _ = strconv.Atoi(g[2])
	day, _ = strconv.Atoi(g[3])
	check := year
	if check == 0 {
		check = 2000 // a leap year
	}
	t := time.Date(check, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || day < 1 || t.Month() != time.Month(month) || t.Day() != day {
		return 0, 0, 0, errNotReal
	}
	return month, day, year, nil
}

// readModel applies the bot's rule for model ids, so that an imported
// personality can be edited without first fixing its model.
func readModel(o object) string {
	m := trimmed(o, "engine_model")
	vendor, name, slash := strings.Cut(m, "/")
	switch {
	case m == "":
		o.r.add("engine_model", "missing; the importer's default model applies")
	case len(m) > maxModelID || strings.ContainsAny(m, " \t\r\n") || !slash || vendor == "" || name == "":
		o.r.add("engine_model", "%s is not an OpenRouter model id (vendor/model, at most %d characters); the importer's default model applies", quote(m), maxModelID)
	default:
		return m
	}
	return ""
}

func readParams(o object) llmparams.Params {
	var out llmparams.Params
	for _, e := range engineParams {
		var v float64
		var ok bool
		if e.integer {
			var n int
			n, ok = o.integer(e.key)
			v = float64(n)
		} else {
			v, ok = o.number(e.key)
		}
		if !ok {
			continue
		}
		var one llmparams.Params
		e.set(&one, v)
		if err := one.Validate(); err != nil {
			for _, fe := range llmparams.FieldErrors(err) {
				// "temperature: 5 is out of range, allowed 0 to 2" names the
				// target setting, which is what the reader needs next to
				// the shapes.inc field.
				line := strings.Replace(fe.Error(), ": ", " ", 1)
				o.r.add(e.key, "%s; left unset", line)
			}
			continue
		}
		e.set(&out, v)
	}
	return out
}

func readVoice(o object) *Voice {
	id := trimmed(o, "voice_id")
	if id == "" {
		// shapes.inc keeps voice_model and sliders on shapes that never had
		// a voice; without an id they configure nothing.
		return nil
	}
	v := &Voice{VoiceID: id, Model: DefaultVoiceModel}
	if m := trimmed(o, "voice_model"); m != "" {
		v.Model = m
	}
	for _, s := range voiceSliders {
		f, ok := o.number(s.key)
		if !ok {
			continue
		}
		if !(f >= 0 && f <= 1) {
			o.r.add(s.key, "%s is outside 0..1; the default applies", formatFloat(f))
			continue
		}
		*s.dst(v) = &f
	}
	return v
}
