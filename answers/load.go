package answers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parse reads an answers file. Every unknown key and every value of the
// wrong kind is reported at once, each with its key path, in a
// *ValidationError; a file that is not YAML at all gives a plain error.
// Parse applies no defaults and does not validate values: see Defaults and
// Validate.
func Parse(data []byte) (*Answers, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("answers: not valid YAML: %w", err)
	}
	a := &Answers{}
	if root.Kind == 0 || len(root.Content) == 0 {
		return a, nil // empty file: everything is a default, Validate says what is missing
	}
	var probs []Problem
	checkNode(root.Content[0], reflect.TypeOf(*a), "", &probs)
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(a); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("answers: %w", err)
	}
	return a, nil
}

// Load reads and parses the answers file at path.
func Load(path string) (*Answers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading answers: %w", err)
	}
	a, err := Parse(data)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.File = path
			return nil, ve
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Marshal returns the answers as YAML, with a header comment. Secrets are
// never part of the model, so none are written.
func Marshal(a *Answers) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# sendready answers: every answer the wizard asks for.\n")
	buf.WriteString("# Edit and run `sendready generate --answers FILE --out DIR`; keys are documented in docs/answers.md.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	return buf.Bytes(), nil
}

// checkNode walks the YAML tree alongside the Go type and reports unknown
// keys and values of the wrong kind, with their key paths.
func checkNode(n *yaml.Node, t reflect.Type, path string, probs *[]Problem) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			*probs = append(*probs, kindProblem(path, n, "a mapping of keys"))
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			f, ok := fields[key]
			if !ok {
				p := Problem{Path: join(path, key), Msg: "is not a known key", Fix: knownKeysFix(key, fields)}
				*probs = append(*probs, p)
				continue
			}
			checkNode(val, f, join(path, key), probs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			*probs = append(*probs, kindProblem(path, n, "a list, like [a, b]"))
			return
		}
		for i, c := range n.Content {
			checkNode(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), probs)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			*probs = append(*probs, kindProblem(path, n, "a mapping of keys"))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkNode(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), probs)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			*probs = append(*probs, kindProblem(path, n, "a single value"))
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			*probs = append(*probs, kindProblem(path, n, "a whole number"))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			*probs = append(*probs, kindProblem(path, n, "true or false"))
		}
	}
}

func kindProblem(path string, n *yaml.Node, want string) Problem {
	v := n.Value
	if n.Kind != yaml.ScalarNode {
		v = map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}[n.Kind]
	}
	return Problem{Path: path, Value: v, Msg: fmt.Sprintf("is not %s (line %d)", want, n.Line), Fix: "write " + want}
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = f.Type
	}
	return m
}

func knownKeysFix(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, k := range names {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q? (known keys here: %s)", best, strings.Join(names, ", "))
	}
	return "known keys here: " + strings.Join(names, ", ")
}

// editDistance is the Levenshtein distance, for "did you mean" hints.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
