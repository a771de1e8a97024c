package dkimkeys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sendready/sendready/dkimkeys"
	"github.com/sendready/sendready/internal/testdaemons"
)

// Fixed keys for the tests, generated once per run.
var (
	rsaKey  *rsa.PrivateKey
	edKey   ed25519.PrivateKey
	rsaPKIX []byte
)

func TestMain(m *testing.M) {
	k, err := dkimkeys.Generate(dkimkeys.RSA, 2048, rand.Reader)
	if err != nil {
		panic(err)
	}
	rsaKey = k.(*rsa.PrivateKey)
	e, err := dkimkeys.Generate(dkimkeys.Ed25519, 0, rand.Reader)
	if err != nil {
		panic(err)
	}
	edKey = e.(ed25519.PrivateKey)
	rsaPKIX, err = x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		alg     string
		bits    int
		wantErr error
	}{
		{"rsa", 1024, nil},
		{"rsa", 2048, nil},
		{"rsa", 3072, nil},
		{"rsa", 4096, nil},
		{"ed25519", 0, nil},
		{"ed25519", 2048, nil}, // bits ignored
		{"rsa", 512, dkimkeys.ErrKeySize},
		{"rsa", 2047, dkimkeys.ErrKeySize},
		{"rsa", 0, dkimkeys.ErrKeySize},
		{"RSA", 2048, dkimkeys.ErrAlgorithm},
		{"ecdsa", 256, dkimkeys.ErrAlgorithm},
		{"", 0, dkimkeys.ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.alg, tt.bits), func(t *testing.T) {
			if tt.bits >= 3072 && tt.wantErr == nil && testing.Short() {
				t.Skip("slow key size in -short")
			}
			k, err := dkimkeys.Generate(tt.alg, tt.bits, nil)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			alg, bits, err := dkimkeys.KeyType(k)
			if err != nil || alg != tt.alg || (alg == "rsa" && bits != tt.bits) {
				t.Fatalf("KeyType = %s %d %v", alg, bits, err)
			}
		})
	}
}

func TestPEMRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		key      crypto.Signer
		pemType  string
		sameType func(crypto.Signer) bool
	}{
		{"rsa", rsaKey, "RSA PRIVATE KEY", func(k crypto.Signer) bool { return k.(*rsa.PrivateKey).Equal(rsaKey) }},
		{"ed25519", edKey, "PRIVATE KEY", func(k crypto.Signer) bool { return k.(ed25519.PrivateKey).Equal(edKey) }},
		{"ed25519 pointer", &edKey, "PRIVATE KEY", func(k crypto.Signer) bool { return k.(ed25519.PrivateKey).Equal(edKey) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := dkimkeys.MarshalPEM(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := pem.Decode(data)
			if b == nil || b.Type != tt.pemType {
				t.Fatalf("PEM %q", data)
			}
			k, err := dkimkeys.ParsePEM(data)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.sameType(k) {
				t.Fatal("parsed key differs")
			}
		})
	}
}

func TestParsePEM(t *testing.T) {
	pkcs8RSA, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8EC, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	t.Run("PKCS#8 RSA", func(t *testing.T) {
		k, err := dkimkeys.ParsePEM(enc("PRIVATE KEY", pkcs8RSA))
		if err != nil || !k.(*rsa.PrivateKey).Equal(rsaKey) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("skips a leading certificate-like block", func(t *testing.T) {
		data := append(enc("CERTIFICATE", []byte("x")), enc("PRIVATE KEY", pkcs8RSA)...)
		if _, err := dkimkeys.ParsePEM(data); err != nil {
			t.Fatal(err)
		}
	})
	bad := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, dkimkeys.ErrNoKey},
		{"not PEM", []byte("hello"), dkimkeys.ErrNoKey},
		{"public key only", enc("PUBLIC KEY", rsaPKIX), dkimkeys.ErrNoKey},
		{"corrupt PKCS#1", enc("RSA PRIVATE KEY", []byte{1, 2, 3}), dkimkeys.ErrNoKey},
		{"corrupt PKCS#8", enc("PRIVATE KEY", []byte{1, 2, 3}), dkimkeys.ErrNoKey},
		{"ECDSA in PKCS#8", enc("PRIVATE KEY", pkcs8EC), dkimkeys.ErrKeyType},
		{"EC PRIVATE KEY", enc("EC PRIVATE KEY", []byte{1}), dkimkeys.ErrKeyType},
		{"encrypted", enc("ENCRYPTED PRIVATE KEY", []byte{1}), dkimkeys.ErrNoKey},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := dkimkeys.ParsePEM(tt.data); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := dkimkeys.MarshalPEM(ec); !errors.Is(err, dkimkeys.ErrKeyType) {
		t.Errorf("MarshalPEM(ecdsa) err %v", err)
	}
}

func TestPublicValue(t *testing.T) {
	got, err := dkimkeys.PublicValue(rsaKey)
	if err != nil || got != base64.StdEncoding.EncodeToString(rsaPKIX) {
		t.Errorf("rsa: %q %v", got, err)
	}
	got, err = dkimkeys.PublicValue(edKey.Public())
	if err != nil || got != base64.StdEncoding.EncodeToString(edKey.Public().(ed25519.PublicKey)) {
		t.Errorf("ed25519: %q %v", got, err)
	}
	if len(got) != 44 {
		t.Errorf("ed25519 p= is %d chars, want 44 (32 raw bytes)", len(got))
	}
}

func TestParsePublic(t *testing.T) {
	edPub := edKey.Public().(ed25519.PublicKey)
	edPKIX, err := x509.MarshalPKIXPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	rsaP := b64(rsaPKIX)
	edP := b64(edPub)
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	// As opendkim-genkey writes sel.txt: several quoted strings in
	// parentheses, then a comment.
	zonePaste := "sel._domainkey\tIN\tTXT\t( \"v=DKIM1; h=sha256; k=rsa; \"\n\t  \"p=" + rsaP[:200] + "\"\n\t  \"" + rsaP[200:] + "\" )  ; ----- DKIM key sel for example.test\n"
	good := []struct {
		name string
		in   string
		rsa  bool
	}{
		{"PEM PUBLIC KEY rsa", pemOf("PUBLIC KEY", rsaPKIX), true},
		{"PEM RSA PUBLIC KEY", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), true},
		{"PEM PUBLIC KEY ed25519", pemOf("PUBLIC KEY", edPKIX), false},
		{"PEM with surrounding space", "\n  " + pemOf("PUBLIC KEY", rsaPKIX) + "\n", true},
		{"base64 SPKI", rsaP, true},
		{"base64 PKCS#1", b64(x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), true},
		{"base64 SPKI without padding", strings.TrimRight(rsaP, "="), true},
		{"base64 raw ed25519", edP, false},
		{"base64 SPKI ed25519", b64(edPKIX), false},
		{"p= tag", "p=" + rsaP, true},
		{"whole record rsa", "v=DKIM1; k=rsa; p=" + rsaP, true},
		{"whole record ed25519", "v=DKIM1; k=ed25519; p=" + edP, false},
		{"record with trailing semicolon", "v=DKIM1; p=" + rsaP + ";", true},
		{"quoted", `"` + rsaP + `"`, true},
		{"wrapped with spaces and newlines", rsaP[:100] + "\n  " + rsaP[100:250] + "\t" + rsaP[250:], true},
		{"zone file paste", zonePaste, true},
		{"quoted strings split mid-value", `"v=DKIM1; k=ed25519; p=` + edP[:10] + `" "` + edP[10:] + `"`, false},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := dkimkeys.ParsePublic(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var ok bool
			if tt.rsa {
				p, isRSA := pub.(*rsa.PublicKey)
				ok = isRSA && p.Equal(&rsaKey.PublicKey)
			} else {
				p, isEd := pub.(ed25519.PublicKey)
				ok = isEd && p.Equal(edPub)
			}
			if !ok {
				t.Fatalf("got %T, not the key", pub)
			}
		})
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPKIX, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name, in string
		want     error
	}{
		{"empty", "", dkimkeys.ErrPublicKey},
		{"spaces", "  \n ", dkimkeys.ErrPublicKey},
		{"empty quotes", `""`, dkimkeys.ErrPublicKey},
		{"revoked", "v=DKIM1; k=rsa; p=", dkimkeys.ErrRevoked},
		{"no p=", "v=DKIM1; k=rsa", dkimkeys.ErrPublicKey},
		{"not base64", "p=not*base64!", dkimkeys.ErrPublicKey},
		{"short garbage", b64([]byte("hello world")), dkimkeys.ErrPublicKey},
		{"truncated SPKI", rsaP[:100], dkimkeys.ErrPublicKey},
		{"k=ed25519 with rsa key", "v=DKIM1; k=ed25519; p=" + rsaP, dkimkeys.ErrPublicKey},
		{"k=rsa with ed25519 key", "v=DKIM1; k=rsa; p=" + edP, dkimkeys.ErrPublicKey},
		{"unknown k=", "v=DKIM1; k=dsa; p=" + rsaP, dkimkeys.ErrKeyType},
		{"ECDSA SPKI base64", b64(ecPKIX), dkimkeys.ErrKeyType},
		{"ECDSA PEM", pemOf("PUBLIC KEY", ecPKIX), dkimkeys.ErrKeyType},
		{"private key PEM", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), dkimkeys.ErrPublicKey},
		{"broken PEM", "-----BEGIN PUBLIC KEY-----\nxx", dkimkeys.ErrPublicKey},
		{"corrupt PEM body", pemOf("PUBLIC KEY", []byte{1, 2, 3}), dkimkeys.ErrPublicKey},
		{"not a tag list", "v=DKIM1; garbage; p=" + rsaP, dkimkeys.ErrPublicKey},
	}
	for _, tt := range bad {
		t.Run("bad/"+tt.name, func(t *testing.T) {
			pub, err := dkimkeys.ParsePublic(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %T, err %v; want %v", pub, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "dkimkeys: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestParsePublicOpenDKIMGenkey reads what opendkim-genkey writes: its
// private key with ParsePEM and its sel.txt zone line with ParsePublic.
func TestParsePublicOpenDKIMGenkey(t *testing.T) {
	testdaemons.Require(t, "opendkim-genkey")
	bin, _ := testdaemons.LookBin("opendkim-genkey")
	d := t.TempDir()
	if out, err := exec.Command(bin, "-b", "2048", "-s", "sel", "-d", "example.test", "-D", d).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	privPEM, err := os.ReadFile(filepath.Join(d, "sel.private"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := dkimkeys.ParsePEM(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	txt, err := os.ReadFile(filepath.Join(d, "sel.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := dkimkeys.ParsePublic(string(txt))
	if err != nil {
		t.Fatalf("%v\n%s", err, txt)
	}
	if !pub.(*rsa.PublicKey).Equal(priv.Public()) {
		t.Fatal("public half from sel.txt does not match sel.private")
	}
	// Trap: on Debian 12, opendkim-genkey (through OpenSSL 3's genrsa)
	// writes RSA keys as PKCS#8 "PRIVATE KEY", not PKCS#1. OpenDKIM reads
	// both; MarshalPEM keeps PKCS#1 and ParsePEM takes either.
	if b, _ := pem.Decode(privPEM); b != nil {
		t.Logf("opendkim-genkey wrote a %q block", b.Type)
	}
}

// withUmask runs fn with the process umask set to mask. Tests in this
// package do not run in parallel, so changing it is safe here.
func withUmask(mask int, fn func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	fn()
}

func TestWriteNew(t *testing.T) {
	data, err := dkimkeys.MarshalPEM(edKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, mask := range []int{0, 0o022, 0o077} {
		t.Run(fmt.Sprintf("umask %03o", mask), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a", "b", "sel.private")
			withUmask(mask, func() { err = dkimkeys.WriteNew(path, data) })
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != 0o600 {
				t.Errorf("mode %v, want -rw-------", fi.Mode())
			}
			di, err := os.Stat(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if want := fs.FileMode(0o750 &^ mask); di.Mode().Perm() != want {
				t.Errorf("parent mode %v, want %v", di.Mode().Perm(), want)
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("content %q %v", got, err)
			}
		})
	}
	t.Run("never overwrites", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sel.private")
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := dkimkeys.WriteNew(path, data)
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("err %v, want fs.ErrExist", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file", err)
		}
		if got, _ := os.ReadFile(path); string(got) != "old" {
			t.Errorf("file changed to %q", got)
		}
	})
	t.Run("symlink is not followed", func(t *testing.T) {
		d := t.TempDir()
		target := filepath.Join(d, "target")
		path := filepath.Join(d, "sel.private")
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		if err := dkimkeys.WriteNew(path, data); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("err %v, want fs.ErrExist", err)
		}
		if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("symlink target was created")
		}
	})
}

func TestLoadOrCreate(t *testing.T) {
	d := t.TempDir()
	path := filepath.Join(d, "keys", "sel.private")
	k1, created, err := dkimkeys.LoadOrCreate(path, "rsa", 1024, nil)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode() != 0o600 {
		t.Fatalf("stat %v %v", fi, err)
	}
	k2, created, err := dkimkeys.LoadOrCreate(path, "rsa", 1024, nil)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if !k2.(*rsa.PrivateKey).Equal(k1) {
		t.Fatal("second call returned another key")
	}
	before, _ := os.ReadFile(path)
	for _, tt := range []struct {
		alg       string
		bits      int
		wantWords []string
	}{
		{"ed25519", 0, []string{path, "RSA 1024-bit", "ed25519", "rotat"}},
		{"rsa", 2048, []string{path, "RSA 1024-bit", "RSA 2048-bit", "rotat"}},
	} {
		_, created, err := dkimkeys.LoadOrCreate(path, tt.alg, tt.bits, nil)
		if !errors.Is(err, dkimkeys.ErrMismatch) || created {
			t.Fatalf("%s %d: created=%v err=%v", tt.alg, tt.bits, created, err)
		}
		for _, w := range tt.wantWords {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("mismatch changed the key file")
	}
	if _, _, err := dkimkeys.LoadOrCreate(filepath.Join(d, "x"), "rsa", 1000, nil); !errors.Is(err, dkimkeys.ErrKeySize) {
		t.Errorf("bad size: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d, "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("bad size still wrote a file")
	}
	bad := filepath.Join(d, "bad.private")
	if err := os.WriteFile(bad, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dkimkeys.LoadOrCreate(bad, "rsa", 2048, nil); !errors.Is(err, dkimkeys.ErrNoKey) || !strings.Contains(err.Error(), bad) {
		t.Errorf("junk file: %v", err)
	}
	edPath := filepath.Join(d, "ed.private")
	e1, created, err := dkimkeys.LoadOrCreate(edPath, "ed25519", 0, nil)
	if err != nil || !created {
		t.Fatal(err)
	}
	e2, created, err := dkimkeys.LoadOrCreate(edPath, "ed25519", 0, nil)
	if err != nil || created || !e2.(ed25519.PrivateKey).Equal(e1) {
		t.Fatalf("ed25519 reload: created=%v err=%v", created, err)
	}
}
