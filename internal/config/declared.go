package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/tzurot/tzurot/internal/redact"
)

// Variable is one environment variable as its Config field declares it.
type Variable struct {
	Name    string // e.g. "GUEST_MODE"
	Default string // the envDefault tag; "" when the variable has none
	Meaning string // the desc tag: Markdown, with 'x' for code
	Secret  bool   // the field is a redact.Secret
	Field   string // the Config field, e.g. "GuestMode"

	check string // the check tag
	index []int  // the field's index in Config, for reflect
}

// Declared lists every environment variable Parse reads, in the order of
// the Config fields: the one list the masked log, the docs and the
// docker-compose.yml check are built from.
func Declared() []Variable { return slices.Clone(declared()) }

var declared = sync.OnceValue(func() []Variable {
	t := reflect.TypeFor[Config]()
	var out []Variable
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, Variable{
			Name:    name,
			Default: f.Tag.Get("envDefault"),
			Meaning: f.Tag.Get("desc"),
			Secret:  f.Type == reflect.TypeFor[redact.Secret](),
			Field:   f.Name,
			check:   f.Tag.Get("check"),
			index:   f.Index,
		})
	}
	return out
})

// Variables are the names of the environment variables Parse reads, in the
// order of [Declared].
func Variables() []string {
	names := make([]string, 0, len(declared()))
	for _, v := range declared() {
		names = append(names, v.Name)
	}
	return names
}

// byField finds the variable a Config field declares.
func byField(field string) (Variable, bool) {
	i := slices.IndexFunc(declared(), func(v Variable) bool { return v.Field == field })
	if i < 0 {
		return Variable{}, false
	}
	return declared()[i], true
}

// Given returns the value of the declared variable name as it was given
// (trimmed; a secret revealed, a list comma-joined) and true, or "" and
// false when it was not set. It serves libraries that read the environment
// themselves (the Temporal SDK's envconfig), so that they see what Parse saw.
func (c Config) Given(name string) (string, bool) {
	i := slices.IndexFunc(declared(), func(v Variable) bool { return v.Name == name })
	if i < 0 || !c.Set[name] {
		return "", false
	}
	switch val := reflect.ValueOf(c).FieldByIndex(declared()[i].index).Interface().(type) {
	case redact.Secret:
		return val.Reveal(), true
	case []string:
		return strings.Join(val, ","), true
	default:
		return fmt.Sprint(val), true
	}
}
