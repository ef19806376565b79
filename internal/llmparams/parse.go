package llmparams

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Parse decodes and validates a stored advanced-parameters document. Empty
// input, "null" and "{}" all mean "nothing set" and give the zero Params,
// because a NULL column, a JSON null and an empty object are the same thing
// to the person who wrote them.
//
// Anything that parses is valid: Parse runs Validate, so a caller never has
// to remember to. On error the zero Params is returned, never a partly
// filled one, so a bad document cannot half-apply.
//
// Keys must match exactly: encoding/json alone would accept "Temperature",
// but OpenRouter, and anything else reading the column, would not. A key given twice
// keeps its last value, which is what Postgres jsonb does with it too.
// Problems of name and type are reported instead of, not as well as, range
// problems, because a value of the wrong type has no range to check.
func Parse(data []byte) (Params, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Params{}, nil
	}

	// First pass: decode into generic values. UseNumber keeps each number's
	// literal text, so 1.5 in an integer field can be reported as 1.5 rather
	// than as whatever float64 made of it.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	var c problems
	if err := dec.Decode(&doc); err != nil {
		c.addf("", "invalid JSON: %s", jsonErrText(err, len(data)))
		return Params{}, c.err()
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		c.addf("", "invalid JSON: unexpected data after the top-level value, which ends at byte %d", end)
		return Params{}, c.err()
	}
	if doc == nil {
		return Params{}, nil
	}

	// Second pass: check names and JSON types against the struct, the one
	// place the schema is written down. Doing this ourselves rather than
	// relying on Decode's errors lets every problem be reported, with its
	// full path, instead of only the first one Decode trips over.
	checkShape("", doc, paramsType, &c)
	if err := c.err(); err != nil {
		return Params{}, err
	}

	// Third pass: the real decode, from the normalised document so it sees
	// exactly what was checked (duplicate keys already collapsed). The shape
	// check should make failure impossible; DisallowUnknownFields stays as a
	// guard in case the two ever disagree.
	norm, err := json.Marshal(doc)
	if err != nil {
		c.addf("", "invalid JSON: %s", oneLine(err.Error()))
		return Params{}, c.err()
	}
	strict := json.NewDecoder(bytes.NewReader(norm))
	strict.DisallowUnknownFields()
	var p Params
	if err := strict.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			c.addf(te.Field, "expected %s, got %s", expectedType(te.Type), te.Value)
		} else {
			c.addf("", "%s", oneLine(err.Error()))
		}
		return Params{}, c.err()
	}

	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}

var paramsType = reflect.TypeFor[Params]()

// checkShape walks a generic JSON value alongside the Go type it must decode
// into. It is driven by reflection so that adding a field to Params cannot
// leave the checker behind.
func checkShape(path string, v any, t reflect.Type, c *problems) {
	name := path
	if name == "" {
		name = documentName
	}
	switch t.Kind() {
	case reflect.Pointer:
		// null on an optional field is just "not set".
		if v != nil {
			checkShape(path, v, t.Elem(), c)
		}

	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			c.addf(path, "expected %s, got %s", expectedType(t), describe(v))
			return
		}
		fields := jsonFields(t)
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.name
		}
		var unknown []string
		for k := range obj {
			if !slices.Contains(names, k) {
				unknown = append(unknown, k)
			}
		}
		slices.Sort(unknown)
		for _, k := range unknown {
			p := joinPath(path, k)
			c.addLine(p, fmt.Sprintf("unknown field %s: allowed fields are %s", quote(p), strings.Join(names, ", ")))
		}
		for _, f := range fields {
			if val, ok := obj[f.name]; ok {
				checkShape(joinPath(path, f.name), val, f.typ, c)
			}
		}

	case reflect.Slice:
		if v == nil {
			return
		}
		arr, ok := v.([]any)
		if !ok {
			c.addf(path, "expected %s, got %s", expectedType(t), describe(v))
			return
		}
		for i, e := range arr {
			checkShape(fmt.Sprintf("%s[%d]", name, i), e, t.Elem(), c)
		}

	case reflect.Map:
		if v == nil {
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			c.addf(path, "expected %s, got %s", expectedType(t), describe(v))
			return
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			checkShape(mapPath(name, k), obj[k], t.Elem(), c)
		}

	case reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			c.addf(path, "expected %s, got %s", expectedType(t), describe(v))
			return
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			// The only way a valid JSON number fails here is overflow.
			c.addf(path, "%s is out of range, allowed finite numbers", clip(string(n)))
		}

	case reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			c.addf(path, "expected %s, got %s", expectedType(t), describe(v))
			return
		}
		s := string(n)
		if _, err := strconv.ParseInt(s, 10, strconv.IntSize); err != nil {
			if strings.ContainsAny(s, ".eE") {
				c.addf(path, "expected %s, got %s", expectedType(t), clip(s))
			} else {
				c.addf(path, "%s is out of range, allowed %d to %d", clip(s), math.MinInt, math.MaxInt)
			}
		}

	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.addf(path, "expected %s, got %s", expectedType(t), describe(v))
		}

	case reflect.String:
		if _, ok := v.(string); !ok {
			c.addf(path, "expected %s, got %s", expectedType(t), describe(v))
		}

	default:
		// Reached only if Params gains a field of a kind this walker does
		// not know; the tests exercise every field, so this fails loudly
		// there rather than silently accepting anything.
		c.addf(path, "cannot check a value of Go type %s", t)
	}
}

type jsonField struct {
	name string
	typ  reflect.Type
}

func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, typ: f.Type})
	}
	return out
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapPath uses bracket syntax for map keys because they are data, not
// schema: a key containing a dot must not read like a nested field.
func mapPath(parent, key string) string {
	return parent + "[" + quote(key) + "]"
}

// expectedType names a Go type the way the JSON author thinks of it.
func expectedType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return expectedType(t.Elem())
	case reflect.Float64:
		return "a number"
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array of " + plural(t.Elem())
	case reflect.Map:
		return "an object of " + plural(t.Elem())
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

func plural(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float64:
		return "numbers"
	case reflect.Int:
		return "integers"
	case reflect.Bool:
		return "booleans"
	case reflect.String:
		return "strings"
	}
	return t.String() + " values"
}

// describe names a generic JSON value for "got ..." in a type error.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return clip(string(v))
	case string:
		return quote(v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonErrText makes a decoder error readable and positions it, since
// "unexpected end of JSON input" alone does not say where to look.
func jsonErrText(err error, size int) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s near byte %d", oneLine(strings.TrimPrefix(se.Error(), "json: ")), se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("unexpected end of input at byte %d", size)
	}
	return oneLine(strings.TrimPrefix(err.Error(), "json: "))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
