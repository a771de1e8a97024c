package rfc2136

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/miekg/dns"
)

// ErrKeyFile means a TSIG key file does not hold one usable key. Its
// messages never quote the secret.
var ErrKeyFile = errors.New("rfc2136: bad TSIG key file")

// Key is a TSIG key (RFC 8945). Its String method leaves the secret out,
// so a Key can be printed or logged.
type Key struct {
	// Name is the key's name, lower case and fully qualified.
	Name string
	// Algorithm is a miekg/dns algorithm name, fully qualified
	// (dns.HmacSHA256: "hmac-sha256.").
	Algorithm string
	// Secret is the base64 of the shared secret.
	Secret string
}

// String names the key and its algorithm, never the secret.
func (k Key) String() string {
	return fmt.Sprintf("TSIG key %s (%s)", strings.TrimSuffix(k.Name, "."), strings.TrimSuffix(k.Algorithm, "."))
}

// GoString is String: %#v must not print the secret either.
func (k Key) GoString() string { return k.String() }

// algorithms maps the names key files use to miekg/dns's.
var algorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// ReadKeyFile reads a TSIG key from path: a BIND key file
//
//	key "name" { algorithm hmac-sha256; secret "base64"; };
//
// (what tsig-keygen and ddns-confgen print), or one line in the form of
// dig's and nsupdate's -y option, [algorithm:]name:secret, where the
// algorithm defaults to hmac-sha256 (nsupdate's default, hmac-md5, is
// not supported: write the algorithm).
func ReadKeyFile(path string) (Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("reading the TSIG key file: %w", err)
	}
	k, err := ParseKey(data)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParseKey parses the contents of a key file (see ReadKeyFile).
func ParseKey(data []byte) (Key, error) {
	text := strings.TrimSpace(string(data))
	if text == "" {
		return Key{}, fmt.Errorf("%w: the file is empty", ErrKeyFile)
	}
	if strings.Contains(text, "{") {
		return parseBIND(text)
	}
	if strings.ContainsAny(text, "\n{};\" ") {
		return Key{}, fmt.Errorf("%w: expected a BIND key file (key \"name\" { algorithm hmac-sha256; secret \"...\"; };) or one line [algorithm:]name:secret", ErrKeyFile)
	}
	parts := strings.Split(text, ":")
	var alg, name, secret string
	switch len(parts) {
	case 2:
		alg, name, secret = "hmac-sha256", parts[0], parts[1]
	case 3:
		alg, name, secret = parts[0], parts[1], parts[2]
	default:
		return Key{}, fmt.Errorf("%w: expected one line [algorithm:]name:secret", ErrKeyFile)
	}
	return newKey(name, alg, secret)
}

func newKey(name, alg, secret string) (Key, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Key{}, fmt.Errorf("%w: the key has no name", ErrKeyFile)
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return Key{}, fmt.Errorf("%w: the key name %q is not a domain name", ErrKeyFile, name)
	}
	a, ok := algorithms[strings.ToLower(strings.TrimSuffix(strings.TrimSpace(alg), "."))]
	if !ok {
		return Key{}, fmt.Errorf("%w: key %s: algorithm %q is not supported: use hmac-sha256 (or hmac-sha1, -sha224, -sha384, -sha512)", ErrKeyFile, name, alg)
	}
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return Key{}, fmt.Errorf("%w: key %s has no secret", ErrKeyFile, name)
	}
	if _, err := base64.StdEncoding.DecodeString(secret); err != nil {
		return Key{}, fmt.Errorf("%w: the secret of key %s is not valid base64", ErrKeyFile, name)
	}
	return Key{Name: strings.ToLower(dns.Fqdn(name)), Algorithm: a, Secret: secret}, nil
}

// parseBIND parses a BIND key statement. Comments (#, //, /* */) are
// skipped; the file must hold exactly one key.
func parseBIND(text string) (Key, error) {
	toks, err := tokens(text)
	if err != nil {
		return Key{}, err
	}
	bad := func(what string) (Key, error) {
		return Key{}, fmt.Errorf("%w: %s; expected key \"name\" { algorithm hmac-sha256; secret \"...\"; };", ErrKeyFile, what)
	}
	var keys []Key
	for i := 0; i < len(toks); {
		if toks[i] != "key" || i+2 >= len(toks) || toks[i+2] != "{" {
			return bad("not a key statement")
		}
		name := toks[i+1]
		i += 3
		var alg, secret string
		for i < len(toks) && toks[i] != "}" {
			if i+2 >= len(toks) || toks[i+2] != ";" {
				return bad(fmt.Sprintf("key %s: each clause is a word, a value and a semicolon", name))
			}
			switch toks[i] {
			case "algorithm":
				alg = toks[i+1]
			case "secret":
				secret = toks[i+1]
			default:
				return bad(fmt.Sprintf("key %s: a clause other than algorithm and secret", name))
			}
			i += 3
		}
		if i+1 >= len(toks) || toks[i+1] != ";" {
			return bad(fmt.Sprintf("key %s: the statement must end in };", name))
		}
		i += 2
		k, err := newKey(name, alg, secret)
		if err != nil {
			return Key{}, err
		}
		keys = append(keys, k)
	}
	switch len(keys) {
	case 0:
		return bad("no key statement")
	case 1:
		return keys[0], nil
	}
	return Key{}, fmt.Errorf("%w: the file holds %d keys: give a file with only the key for this zone", ErrKeyFile, len(keys))
}

// tokens splits a BIND statement into words, quoted strings (unquoted) and
// the punctuation { } ;.
func tokens(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated /* comment", ErrKeyFile)
			}
			i += end + 4
		case c == '{' || c == '}' || c == ';':
			out = append(out, string(c))
			i++
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated quoted string", ErrKeyFile)
			}
			out = append(out, s[i+1:i+1+end])
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};\"", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out, nil
}
