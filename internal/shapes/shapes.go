// Package shapes reads a shapes.inc backup tree into plain Go values, ready
// for the importer to write as personalities, llm_configs, voice_configs,
// personality_aliases and conversation_history rows. Nothing here touches a
// database.
//
// Real backups are messy: truncated files, files that are not JSON,
// impossible dates, free-text birthdays, values out of range, two
// personalities claiming one alias. None of that stops a load. Each problem
// becomes a Problem naming the file (relative to the backup root) and the
// JSON field, saying what is wrong and what was done about it, and
// everything else is imported. Load returns an error only when the root
// itself is unusable, since then there is nothing to report problems about.
//
// # Decisions
//
// The rules below are where the backup and the target schema disagree; each
// was chosen so that nothing is silently lost and nothing is guessed.
//
//   - A value of the wrong JSON type is converted when that loses nothing (a
//     number in a text field becomes its digits, a number written as text in
//     a numeric field becomes the number) and reported either way; anything
//     else of the wrong type is reported and left out.
//   - personality_history has no column. shapes.inc put it in the prompt, so
//     it is appended to CharacterInfo after a blank line rather than dropped.
//   - Sampling parameters (engine_*) are checked by llmparams one by one: a
//     bad one is reported and left unset, the rest are kept.
//   - A voice exists only when voice_id is set. A slider outside 0..1 is
//     reported and left nil so that the column default applies; clamping 1.7
//     to 1 would be a guess at what was meant.
//   - A birthday must be MM-DD or YYYY-MM-DD and a real date (02-29 without a
//     year is allowed); anything else is reported and the personality is
//     imported without one.
//   - Aliases belong to whoever the registry's top-level alias map names.
//     Every other personality listing the same alias (regardless of case) is
//     reported as a collision. An alias that is some other personality's name
//     is reported and given to nobody, because names and aliases share one
//     namespace for mentions. An alias equal to its owner's own name is
//     dropped silently: the name already answers. An alias whose owner was
//     not imported is not handed to the next claimant, so that importing the
//     fixed file later cannot change who answers to it.
//   - A chat-history exchange becomes a user turn and an assistant turn at
//     the same time, user first; empty sides are skipped silently. An
//     exchange whose time is unreadable is reported and skipped, since
//     conversation_history.created_at cannot be null and inventing a time
//     would misplace it in the conversation.
//   - A missing chat-history file is normal (not every shape was talked to)
//     and is not a problem; neither are unknown fields, which shapes.inc has
//     many of.
//
// Output is deterministic: personalities are sorted by name, problems by
// path and then field (numbers inside compared as numbers, so messages[2]
// comes before messages[10]).
//
// Load reads chat histories whole. For backups of any size, LoadWith with
// SkipHistory leaves them out and StreamHistory reads one history file at a
// time, exchange by exchange, in memory bounded by the largest exchange; it
// reports the same problems Load would. Problem.Severity ranks problems for
// reports: unreadable files, then refused values, then collisions.
package shapes

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tzurot/tzurot/internal/llmparams"
)

// Files and directories of the backup layout, relative to its root. Paths in
// problems use forward slashes whatever the platform, so that reports read
// the same everywhere.
const (
	RegistryFile     = "personalities.json"
	MetadataFile     = ".backup-metadata.json"
	PersonalitiesDir = "personalities"
)

// DefaultVoiceModel is what shapes.inc used when a voice named no model, and
// voice_configs.voice_model's default.
const DefaultVoiceModel = "eleven_flash_v2_5"

// Roles of conversation_history.role.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// CardColumns are the personalities columns of the character card, in
// schema order; Personality.Card is keyed by them.
var CardColumns = []string{
	"personality_traits", "personality_tone", "personality_age", "personality_appearance",
	"personality_likes", "personality_dislikes", "conversational_goals", "conversational_examples",
}

// Backup is everything read from one backup tree.
type Backup struct {
	// Personalities are those that could be imported, sorted by Name.
	Personalities []Personality
	// Problems are sorted by Path, then Field.
	Problems []Problem
	// Registry is personalities.json as read, for callers that want to show
	// where an alias came from. Aliases are already assigned in Personalities.
	Registry Registry
	// Metadata is .backup-metadata.json; zero when it is missing or broken.
	Metadata Metadata
}

// Problem is one thing wrong with the backup and what was done about it.
type Problem struct {
	// Path is the file, relative to the backup root, with forward slashes.
	Path string
	// Field is the JSON field ("birthday", "messages[3].ts",
	// "personalities.<id>.aliases[1]"), or "" when the whole file is at fault.
	Field string
	// Message is one line: what is wrong and what was done, e.g.
	// `birthday "02-30" is not a real date; imported without a birthday`.
	Message string
}

// String renders the problem as a single report line.
func (p Problem) String() string {
	if p.Field == "" {
		return p.Path + ": " + p.Message
	}
	return p.Path + ": " + p.Field + ": " + p.Message
}

// Severity ranks problems for a report, most severe first.
type Severity int

// Severities, most severe first.
const (
	// Unreadable: a whole file could not be used (missing, unreadable, empty,
	// truncated, not JSON, not an object), so everything in it is lost.
	Unreadable Severity = iota + 1
	// Refused: one value was refused or converted; the rest was imported.
	Refused
	// Collision: two claimants of one name, id or alias; one of them kept it.
	Collision
)

// collisionMarks are the phrases of the problems that report a collision
// (see assignAliases and Load); they are written in this package only.
var collisionMarks = []string{
	" is claimed by ", " is also the username in ", " is also the id in ",
	" is the name of another personality", " but another spelling of it gives it to ",
}

// Severity classifies the problem: a problem with the whole file (Field "")
// is Unreadable, a collision between claimants is Collision, anything else
// is Refused.
func (p Problem) Severity() Severity {
	if p.Field == "" {
		return Unreadable
	}
	for _, m := range collisionMarks {
		if strings.Contains(p.Message, m) {
			return Collision
		}
	}
	return Refused
}

// Personality is one shape, mapped onto the target columns. Empty strings
// are absent values (NULL in the nullable columns).
type Personality struct {
	ShapeID       string // shapes.inc id; links the registry and chat history
	Name          string // personalities.name: the shapes.inc username (slug)
	DisplayName   string
	AvatarURL     string
	SystemPrompt  string // shapes.inc jailbreak
	CharacterInfo string // shapes.inc user_prompt, then personality_history
	// Card holds the non-empty character-card columns, keyed by CardColumns.
	Card         map[string]string
	ErrorMessage string

	// Birthday; 0 means unknown. A month and day without a year is normal.
	BirthMonth, BirthDay, BirthYear int

	// Model is the OpenRouter model id; "" when the backup has none usable,
	// in which case the importer's default applies.
	Model  string
	Params llmparams.Params

	Voice   *Voice
	Aliases []string // as written, sorted case-insensitively
	History []Turn   // in time order; nil when loaded with SkipHistory
	// SourcePath is the personality's file, relative to the backup root.
	SourcePath string
	// HistoryPath is the chat-history file, relative to the backup root, or
	// "" when the personality has none. StreamHistory reads it.
	HistoryPath string
}

// Voice is a voice_configs row. A nil slider means "not set": the column
// default applies.
type Voice struct {
	VoiceID    string
	Model      string
	Stability  *float64
	Similarity *float64
	Style      *float64
	Frequency  *float64
}

// Turn is one conversation_history row. The backup has no channel, so the
// importer supplies one.
type Turn struct {
	Role    string // RoleUser or RoleAssistant
	Content string
	At      time.Time // UTC
}

// Metadata is .backup-metadata.json.
type Metadata struct {
	Created       time.Time
	Source        string
	Personalities int
}

// Load reads the backup tree at root, chat histories included. It fails
// only when root is not a readable directory with a personalities directory
// in it; every other problem is reported in Backup.Problems and the rest is
// imported.
func Load(root string) (*Backup, error) { return LoadWith(root, LoadOptions{}) }

// LoadOptions tune LoadWith.
type LoadOptions struct {
	// SkipHistory leaves Personality.History nil and the history files'
	// problems out of Backup.Problems, so that a backup of any size loads in
	// little memory; StreamHistory then reads each history file (reporting
	// its problems) when it is needed.
	SkipHistory bool
}

// LoadWith is Load with options.
func LoadWith(root string, opts LoadOptions) (*Backup, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("shapes: backup root: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("shapes: backup root %s is not a directory", root)
	}
	dirs, err := os.ReadDir(filepath.Join(root, PersonalitiesDir))
	if err != nil {
		return nil, fmt.Errorf("shapes: %s is not a shapes.inc backup: %w", root, err)
	}

	b := &Backup{}
	var problems []Problem

	reg, regOK, regProblems := loadRegistry(root)
	b.Registry = reg
	problems = append(problems, regProblems...)

	var ps []*Personality
	slugs := map[string]bool{} // every personality directory, imported or not
	byName := map[string]string{}
	byShape := map[string]string{}
	for _, d := range dirs {
		slug := d.Name()
		// Hidden entries are filesystem litter (.DS_Store and the like),
		// never personalities.
		if strings.HasPrefix(slug, ".") || !isDir(root, d) {
			continue
		}
		slugs[slug] = true
		rel := path.Join(PersonalitiesDir, slug, slug+".json")
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			problems = append(problems, Problem{rel, "", readErrText(err) + "; personality not imported"})
			continue
		}
		p, pp, ok := parsePersonality(rel, slug, data)
		problems = append(problems, pp...)
		if !ok {
			continue
		}
		// The first directory (in name order) keeps a name or id that two
		// files share: both are unique in the target.
		if other, dup := byName[p.Name]; dup {
			problems = append(problems, Problem{rel, "username", fmt.Sprintf("%s is also the username in %s; personality not imported", quote(p.Name), other)})
			continue
		}
		if other, dup := byShape[p.ShapeID]; dup && p.ShapeID != "" {
			problems = append(problems, Problem{rel, "id", fmt.Sprintf("%s is also the id in %s; personality not imported", quote(p.ShapeID), other)})
			continue
		}
		byName[p.Name] = rel
		if p.ShapeID != "" {
			byShape[p.ShapeID] = rel
		}

		histRel := path.Join(PersonalitiesDir, slug, slug+"_chat_history.json")
		if opts.SkipHistory {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(histRel))); !errors.Is(err, fs.ErrNotExist) {
				p.HistoryPath = histRel
			}
			ps = append(ps, &p)
			continue
		}
		hist, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(histRel)))
		if !errors.Is(err, fs.ErrNotExist) {
			p.HistoryPath = histRel
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			problems = append(problems, Problem{histRel, "", readErrText(err) + "; history not imported"})
		default:
			turns, hp := parseHistory(histRel, p.ShapeID, hist)
			p.History = turns
			problems = append(problems, hp...)
		}
		ps = append(ps, &p)
	}

	if regOK {
		problems = append(problems, assignAliases(reg, ps, slugs)...)
	}

	meta, mp := loadMetadata(root, len(slugs))
	b.Metadata = meta
	problems = append(problems, mp...)

	slices.SortFunc(ps, func(a, b *Personality) int { return cmp.Compare(a.Name, b.Name) })
	b.Personalities = make([]Personality, len(ps))
	for i, p := range ps {
		b.Personalities[i] = *p
	}
	sortProblems(problems)
	b.Problems = problems
	return b, nil
}

// isDir follows symlinks, so a tree assembled from links still loads.
func isDir(root string, d fs.DirEntry) bool {
	if d.IsDir() {
		return true
	}
	if d.Type()&fs.ModeSymlink == 0 {
		return false
	}
	info, err := os.Stat(filepath.Join(root, PersonalitiesDir, d.Name()))
	return err == nil && info.IsDir()
}

// readErrText drops the absolute path os errors carry: the problem already
// names the file relative to the root.
func readErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "missing"
	}
	return "unreadable (" + oneLine(err.Error()) + ")"
}

func loadMetadata(root string, dirs int) (Metadata, []Problem) {
	data, err := os.ReadFile(filepath.Join(root, MetadataFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Metadata{}, nil // informational only; older backups lack it
	}
	r := &report{path: MetadataFile}
	if err != nil {
		r.add("", "%s; ignored", readErrText(err))
		return Metadata{}, r.list
	}
	doc, ok := decodeObject(r, data, "ignored")
	if !ok {
		return Metadata{}, r.list
	}
	o := object{m: doc, r: r}
	var m Metadata
	m.Source, _ = o.text("source")
	if s, ok := o.text("created"); ok && s != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if err != nil {
			r.add("created", "%s is not an RFC 3339 time; ignored", quote(s))
		} else {
			m.Created = t.UTC()
		}
	}
	if n, ok := o.integer("personalities"); ok {
		m.Personalities = n
		// A count that disagrees with the tree is the one sign that a copy
		// of the backup is incomplete.
		if n != dirs {
			r.add("personalities", "says %d personalities but the backup has %d personality directories", n, dirs)
		}
	}
	return m, r.list
}

// NaturalCompare orders report text the way problems are sorted: array
// indices compared as numbers, so that messages[2] comes before
// messages[10]; everything else byte by byte.
func NaturalCompare(a, b string) int { return naturalCompare(a, b) }

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := naturalCompare(a.Path, b.Path); c != 0 {
			return c
		}
		return naturalCompare(a.Field, b.Field)
	})
}

// naturalCompare orders array indices by value, so that messages[10] sorts
// after messages[9] and a report reads in file order. Other digits (say in
// a shape id) compare as text; only an index is a number.
func naturalCompare(a, b string) int {
	var prev byte
	for a != "" && b != "" {
		if prev == '[' {
			da, db := digitRun(a), digitRun(b)
			if da > 0 && db > 0 {
				na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
				if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
					return c
				}
				a, b, prev = a[da:], b[db:], '0'
				continue
			}
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		prev = a[0]
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
