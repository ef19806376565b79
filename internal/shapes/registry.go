package shapes

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Registry is personalities.json, the old alias registry.
type Registry struct {
	// Entries are in file order, which is the order shapes.inc handed out
	// aliases in.
	Entries []RegistryEntry
	// Owners is the top-level alias map: lower-case alias to the shape id
	// that got it first.
	Owners map[string]string
}

// RegistryEntry is one personality's record in the registry.
type RegistryEntry struct {
	ShapeID     string
	FullName    string // the slug
	DisplayName string
	// Aliases are as written (originalCase when present), invalid ones
	// already left out and reported.
	Aliases []string

	aliasIndex []int // position of each alias in the file, for problem fields
}

// maxAlias is the bot's limit on aliases; a longer one could not be
// removed again with /personality alias remove.
const maxAlias = 64

// loadRegistry reads personalities.json. ok is false when the file is
// unusable as a whole, in which case no aliases are assigned at all.
func loadRegistry(root string) (Registry, bool, []Problem) {
	r := &report{path: RegistryFile}
	const consequence = "personalities imported without aliases"
	data, err := os.ReadFile(filepath.Join(root, RegistryFile))
	if err != nil {
		r.add("", "%s; %s", readErrText(err), consequence)
		return Registry{}, false, r.list
	}
	reg, ok := parseRegistry(r, data, consequence)
	return reg, ok, r.list
}

func parseRegistry(r *report, data []byte, consequence string) (Registry, bool) {
	doc, ok := decodeObject(r, data, consequence)
	if !ok {
		return Registry{}, false
	}
	reg := Registry{Owners: map[string]string{}}

	if raw, present := doc["personalities"]; present && raw != nil {
		entries, isObject := raw.(map[string]any)
		if !isObject {
			r.add("personalities", "expected an object, got %s; %s", describe(raw), consequence)
			return Registry{}, false
		}
		for _, key := range entryOrder(data, entries) {
			if e, ok := parseEntry(r, key, entries[key]); ok {
				reg.Entries = append(reg.Entries, e)
			}
		}
	}

	if raw, present := doc["aliases"]; present && raw != nil {
		owners, isObject := raw.(map[string]any)
		if !isObject {
			r.add("aliases", "expected an object, got %s; aliases go to whoever lists them first", describe(raw))
		}
		for _, key := range slices.Sorted(maps.Keys(owners)) {
			field := "aliases." + key
			id, isText := owners[key].(string)
			id = strings.TrimSpace(id)
			if !isText || id == "" {
				r.add(field, "expected a shape id, got %s; ignored", describe(owners[key]))
				continue
			}
			k := strings.ToLower(strings.TrimSpace(key))
			if !validAlias(k) {
				r.add(field, "%s cannot be an alias (1 to %d characters without @ or line breaks); ignored", quote(key), maxAlias)
				continue
			}
			if prev, dup := reg.Owners[k]; dup && prev != id {
				r.add(field, "gives %s to %s, but another spelling of it gives it to %s; the first (sorted) is kept", quote(key), quote(id), quote(prev))
				continue
			}
			reg.Owners[k] = id
		}
	}
	return reg, true
}

// entryOrder recovers the file order of the personalities object, which a
// Go map loses and which decides who listed an alias first.
func entryOrder(data []byte, entries map[string]any) []string {
	var top map[string]json.RawMessage
	_ = json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &top)
	var keys []string
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(top["personalities"]))
	if t, err := dec.Token(); err == nil && t == json.Delim('{') {
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				break
			}
			if k, ok := t.(string); ok && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	// Only reachable if the two decodes ever disagree; sorted keeps it
	// deterministic.
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	return keys
}

func parseEntry(r *report, key string, raw any) (RegistryEntry, bool) {
	field := "personalities." + key
	m, isObject := raw.(map[string]any)
	if !isObject {
		r.add(field, "expected an object, got %s; its aliases are not imported", describe(raw))
		return RegistryEntry{}, false
	}
	o := object{m: m, r: r, prefix: field + "."}
	e := RegistryEntry{ShapeID: strings.TrimSpace(key)}
	if id := trimmed(o, "id"); id != "" && id != e.ShapeID {
		r.add(field+".id", "%s differs from the entry's key; the key is used", quote(id))
	}
	e.FullName = trimmed(o, "fullName")
	e.DisplayName = trimmed(o, "displayName")

	raw, present := m["aliases"]
	if !present || raw == nil {
		return e, true
	}
	list, isArray := raw.([]any)
	if !isArray {
		r.add(field+".aliases", "expected an array, got %s; ignored", describe(raw))
		return e, true
	}
	for i, item := range list {
		af := fmt.Sprintf("%s.aliases[%d]", field, i)
		var alias string
		switch item := item.(type) {
		case string:
			// Older registries kept bare strings; the meaning is plain.
			alias = item
		case map[string]any:
			ao := object{m: item, r: r, prefix: af + "."}
			value, _ := ao.text("value")
			original, _ := ao.text("originalCase")
			value, original = strings.TrimSpace(value), strings.TrimSpace(original)
			switch {
			case original == "":
				alias = value
			case value == "" || strings.EqualFold(value, original):
				alias = original
			default:
				r.add(af+".originalCase", "%s is not %s in another case; %s is used", quote(original), quote(value), quote(value))
				alias = value
			}
		default:
			r.add(af, "expected an alias object, got %s; skipped", describe(item))
			continue
		}
		alias = strings.TrimSpace(alias)
		if !validAlias(alias) {
			r.add(af, "%s cannot be an alias (1 to %d characters without @ or line breaks); skipped", quote(alias), maxAlias)
			continue
		}
		e.Aliases = append(e.Aliases, alias)
		e.aliasIndex = append(e.aliasIndex, i)
	}
	return e, true
}

// validAlias is the bot's rule for /personality alias add, so that every
// imported alias is one a user could also have typed and can remove.
func validAlias(a string) bool {
	n := utf8.RuneCountInString(a)
	return n >= 1 && n <= maxAlias && utf8.ValidString(a) && !strings.ContainsAny(a, "@\n\r\t")
}

// claim is one registry entry (or the alias map) putting a name on an alias.
type claim struct {
	shapeID string
	label   string // the personality's name where known, for messages
	field   string // where in personalities.json the claim is written
	written string // the alias as this claimant wrote it
	p       *Personality
}

// assignAliases hands each alias to one personality and reports everyone
// else who claimed it. dirs are the personality directories, imported or
// not, so that an alias equal to a name whose file is broken today does not
// collide with it once the file is fixed.
func assignAliases(reg Registry, ps []*Personality, dirs map[string]bool) []Problem {
	r := &report{path: RegistryFile}
	byShape := map[string]*Personality{}
	names := map[string]bool{}
	for _, p := range ps {
		if p.ShapeID != "" {
			byShape[p.ShapeID] = p
		}
		names[p.Name] = true
	}
	for d := range dirs {
		if slugPattern.MatchString(d) { // others can never become a name
			names[d] = true
		}
	}

	// Match entries to personalities: by shape id, or by name for a file
	// that lost its id.
	matched := map[*Personality]bool{}
	entryP := make([]*Personality, len(reg.Entries))
	labels := map[string]string{} // shape id → label
	for i, e := range reg.Entries {
		p := byShape[e.ShapeID]
		if p == nil {
			for _, q := range ps {
				if q.ShapeID == "" && q.Name == e.FullName {
					p = q
					break
				}
			}
		}
		switch {
		case p != nil:
			entryP[i], matched[p] = p, true
			labels[e.ShapeID] = p.Name
			// The registry's display name is the same data as the file's;
			// it only fills a gap.
			if p.DisplayName == "" {
				p.DisplayName = e.DisplayName
			}
		case e.FullName != "":
			labels[e.ShapeID] = e.FullName
		default:
			labels[e.ShapeID] = e.ShapeID
		}
		// A directory that exists but did not load is reported already.
		if p == nil && !dirs[e.FullName] {
			r.add("personalities."+e.ShapeID, "lists %s, which has no directory under %s/; its aliases are not imported",
				quote(labels[e.ShapeID]), PersonalitiesDir)
		}
	}
	var problems []Problem
	for _, p := range ps {
		if !matched[p] {
			problems = append(problems, Problem{p.SourcePath, "id", "not in " + RegistryFile + "; imported without aliases"})
		}
	}
	labelOf := func(id string) (string, bool) {
		if l, ok := labels[id]; ok {
			return l, true
		}
		if p := byShape[id]; p != nil {
			return p.Name, true
		}
		return id, false
	}

	claims := map[string][]claim{}
	for i, e := range reg.Entries {
		seen := map[string]bool{}
		for j, a := range e.Aliases {
			k := strings.ToLower(a)
			if seen[k] {
				continue // the same alias twice in one list is one claim
			}
			seen[k] = true
			claims[k] = append(claims[k], claim{
				shapeID: e.ShapeID,
				label:   labels[e.ShapeID],
				field:   fmt.Sprintf("personalities.%s.aliases[%d]", e.ShapeID, e.aliasIndex[j]),
				written: a,
				p:       entryP[i],
			})
		}
	}
	keys := slices.Collect(maps.Keys(claims))
	for k := range reg.Owners {
		if _, ok := claims[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)

	for _, k := range keys {
		cl := claims[k]
		own, reason := -1, ""
		if id, named := reg.Owners[k]; named {
			own = slices.IndexFunc(cl, func(c claim) bool { return c.shapeID == id })
			label, known := labelOf(id)
			switch {
			case own >= 0:
			case known:
				// The map's word stands even when the owner's own list
				// dropped the alias.
				p := byShape[id]
				if p == nil {
					for i, e := range reg.Entries {
						if e.ShapeID == id {
							p = entryP[i]
						}
					}
				}
				cl = append(cl, claim{shapeID: id, label: label, field: "aliases." + k, written: k, p: p})
				own = len(cl) - 1
			case len(cl) > 0:
				// Nothing in the backup can ever claim it for the stranger,
				// so the first listing is as good an owner as any.
				r.add("aliases."+k, "gives %s to shape %s, which is not in the backup; %s keeps it (it lists it first)", quote(k), quote(id), cl[0].label)
				own, reason = 0, "it lists it first"
			default:
				r.add("aliases."+k, "gives %s to shape %s, which is not in the backup; skipped", quote(k), quote(id))
				continue
			}
			if reason == "" {
				reason = "first in the registry"
			}
		}
		if own < 0 {
			own, reason = 0, "it lists it first; the registry's alias map names no owner"
		}
		owner := cl[own]

		if names[k] {
			// Names and aliases share one namespace for mentions: the name
			// wins, and its own personality needs no alias for it.
			for _, c := range cl {
				if c.label != k {
					r.add(c.field, "alias %s is the name of another personality, %s; skipped", quote(c.written), k)
				}
			}
			continue
		}
		for i, c := range cl {
			if i == own || c.shapeID == owner.shapeID || (c.p != nil && c.p == owner.p) {
				continue // one personality listed twice is no collision
			}
			r.add(c.field, "alias %s is claimed by %s and %s; %s keeps it (%s)",
				quote(c.written), owner.label, c.label, owner.label, reason)
		}
		if owner.p != nil {
			owner.p.Aliases = append(owner.p.Aliases, owner.written)
		}
	}

	for _, p := range ps {
		slices.SortFunc(p.Aliases, func(a, b string) int {
			return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
		})
	}
	return append(problems, r.list...)
}
