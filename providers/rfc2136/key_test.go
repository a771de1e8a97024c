package rfc2136

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const secret = "c2VuZHJlYWR5LXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk="

func TestParseKey(t *testing.T) {
	want := Key{Name: "update.example.test.", Algorithm: dns.HmacSHA256, Secret: secret}
	for name, text := range map[string]string{
		"tsig-keygen": "key \"update.example.test\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret + "\";\n};\n",
		"comments":    "# made by tsig-keygen\n// for sendready\n/* multi\nline */ key update.example.test. { algorithm HMAC-SHA256; secret \"" + secret + "\"; };",
		"one line":    "update.example.test:" + secret + "\n",
		"-y with alg": "hmac-sha256:Update.Example.Test.:" + secret,
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ParseKey([]byte(text))
			if err != nil || k != want {
				t.Errorf("got %#v, %v", k, err)
			}
		})
	}
	k, _ := ParseKey([]byte("hmac-sha512:k:" + secret))
	if k.Algorithm != dns.HmacSHA512 {
		t.Errorf("algorithm %q", k.Algorithm)
	}
}

func TestParseKeyErrors(t *testing.T) {
	for name, text := range map[string]string{
		"empty":        "",
		"md5":          "hmac-md5:k:" + secret,
		"bad base64":   "k:" + secret + "!!",
		"no secret":    "key \"k\" { algorithm hmac-sha256; };",
		"two keys":     "key a { algorithm hmac-sha256; secret \"" + secret + "\"; }; key b { algorithm hmac-sha256; secret \"" + secret + "\"; };",
		"other clause": "key a { algorithm hmac-sha256; secret \"" + secret + "\"; " + secret + " x; };",
		"unterminated": "key a { algorithm hmac-sha256; secret \"" + secret + "; };",
		"no semicolon": "key a { algorithm hmac-sha256; secret \"" + secret + "\" };",
		"knot yaml":    "key:\n  - id: a\n    algorithm: hmac-sha256\n    secret: " + secret + "\n",
		"too many":     "a:b:c:" + secret,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKey([]byte(text))
			if !errors.Is(err, ErrKeyFile) {
				t.Fatalf("want ErrKeyFile, got %v", err)
			}
			if strings.Contains(err.Error(), secret[:20]) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestReadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	if err := os.WriteFile(path, []byte("k:"+secret), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{k.String(), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(s, secret) {
			t.Errorf("printing the key shows the secret: %s", s)
		}
	}
	if _, err := ReadKeyFile(path + ".missing"); err == nil {
		t.Error("missing file read")
	}
}
