package records

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sendready/sendready/dkimkeys"
)

// loadKey reads a PEM public key from testdata.
func loadKey(t *testing.T, name string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := dkimkeys.ParsePublic(string(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return k
}
func TestDKIMKeys(t *testing.T) {
	rsaKey := loadKey(t, "rsa1024.pub.pem").(*rsa.PublicKey)
	edKey := loadKey(t, "ed25519.pub.pem").(ed25519.PublicKey)

	t.Run("rsa", func(t *testing.T) {
		d, err := NewDKIM(rsaKey)
		if err != nil {
			t.Fatal(err)
		}
		spki, _ := x509.MarshalPKIXPublicKey(rsaKey)
		want := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(spki)
		if d.String() != want {
			t.Errorf("String() = %q, want %q", d, want)
		}
		if d.RSABits() != 1024 || d.Revoked() || d.Testing() {
			t.Errorf("bits %d revoked %v testing %v", d.RSABits(), d.Revoked(), d.Testing())
		}
		back, err := ParseDKIM(d.String())
		if err != nil || !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip: %#v, %v", back, err)
		}
		k, err := back.PublicKey()
		if err != nil || !KeysEqual(k, rsaKey) {
			t.Errorf("PublicKey() = %v, %v", k, err)
		}
	})

	t.Run("rsa pkcs1 equals spki", func(t *testing.T) {
		pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(rsaKey))
		d, err := ParseDKIM("v=DKIM1; k=rsa; p=" + pkcs1)
		if err != nil {
			t.Fatal(err)
		}
		k, err := d.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if !KeysEqual(k, rsaKey) {
			t.Error("PKCS#1 key differs from the SPKI key")
		}
		if d.RSABits() != 1024 {
			t.Errorf("RSABits() = %d", d.RSABits())
		}
	})

	t.Run("ed25519 raw", func(t *testing.T) {
		d, err := NewDKIM(edKey)
		if err != nil {
			t.Fatal(err)
		}
		want := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edKey)
		if d.String() != want {
			t.Errorf("String() = %q, want %q", d, want)
		}
		if len(d.Key) != 32 {
			t.Errorf("p= holds %d bytes, want the raw 32", len(d.Key))
		}
		back, err := ParseDKIM(d.String())
		if err != nil || !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip: %#v, %v", back, err)
		}
		k, err := back.PublicKey()
		if err != nil || !KeysEqual(k, edKey) {
			t.Errorf("PublicKey() = %v, %v", k, err)
		}
		if KeysEqual(k, rsaKey) || KeysEqual(rsaKey, k) || KeysEqual(nil, k) {
			t.Error("keys of different types compare equal")
		}
		if back.RSABits() != 0 {
			t.Errorf("RSABits() of ed25519 = %d", back.RSABits())
		}
	})

	t.Run("ed25519 spki refused", func(t *testing.T) {
		spki, _ := x509.MarshalPKIXPublicKey(edKey)
		d, err := ParseDKIM("v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(spki))
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.PublicKey()
		if !errors.Is(err, ErrDKIMKey) || !strings.Contains(err.Error(), "raw 32-byte key") {
			t.Errorf("PublicKey() error = %v", err)
		}
	})

	t.Run("rsa tag with ed25519 key", func(t *testing.T) {
		d, _ := ParseDKIM("k=rsa; p=" + base64.StdEncoding.EncodeToString(edKey))
		if _, err := d.PublicKey(); !errors.Is(err, ErrDKIMKey) {
			t.Errorf("PublicKey() error = %v", err)
		}
	})

	t.Run("unsupported", func(t *testing.T) {
		if _, err := NewDKIM(*rsaKey); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("NewDKIM(rsa.PublicKey) error = %v", err)
		}
		if _, err := NewDKIM(ed25519.PublicKey{1, 2}); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("NewDKIM(short ed25519) error = %v", err)
		}
	})
}

func TestParseDKIM(t *testing.T) {
	tests := []struct {
		in    string
		want  DKIM
		canon string
	}{
		{"v=DKIM1; k=rsa; p=AQID", DKIM{Version: "DKIM1", KeyType: KeyRSA, Key: []byte{1, 2, 3}}, ""},
		{"p=AQID", DKIM{KeyType: KeyRSA, Key: []byte{1, 2, 3}}, "k=rsa; p=AQID"},
		{"v=DKIM1;h=sha256;k=rsa;p=AQ ID;", DKIM{Version: "DKIM1", Hashes: []string{"sha256"}, KeyType: KeyRSA, Key: []byte{1, 2, 3}}, "v=DKIM1; h=sha256; k=rsa; p=AQID"},
		{"v=DKIM1; k=ed25519; p=", DKIM{Version: "DKIM1", KeyType: KeyEd25519}, ""},
		{"v=DKIM1 ; h=sha1:sha256 ; k=RSA ; n=hello ; s=email:* ; t=y:s ; p=AQID ; x=unknown", DKIM{
			Version: "DKIM1", Hashes: []string{"sha1", "sha256"}, KeyType: KeyRSA, Notes: "hello",
			Services: []string{"email", "*"}, Flags: []string{"y", "s"}, Key: []byte{1, 2, 3},
		}, "v=DKIM1; h=sha1:sha256; k=rsa; n=hello; s=email:*; t=y:s; p=AQID"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDKIM(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if got.String() != canon {
				t.Errorf("String() = %q, want %q", got, canon)
			}
			again, err := ParseDKIM(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip: %#v, %v", again, err)
			}
		})
	}
	revoked, _ := ParseDKIM("v=DKIM1; p=")
	if !revoked.Revoked() {
		t.Error("empty p= is not revoked")
	}
	if _, err := revoked.PublicKey(); !errors.Is(err, ErrDKIMRevoked) {
		t.Errorf("PublicKey() of revoked: %v", err)
	}
	tst, _ := ParseDKIM("v=DKIM1; t=s:y; p=AQID")
	if !tst.Testing() {
		t.Error("t=s:y is not testing")
	}
}

func TestParseDKIMErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"v=DKIM1; k=rsa", "no p= tag"},
		{"", "no p= tag"},
		{"k=rsa; v=DKIM1; p=AQID", "v= must be the first tag"},
		{"v=DKIM2; p=AQID", "v=DKIM2: the version must be DKIM1"},
		{"v=DKIM1; k=dsa; p=AQID", "k=dsa: unknown key type"},
		{"v=DKIM1; p=AQID; p=AQID", "tag p= appears more than once"},
		{"v=DKIM1; p=not*base64", "p= is not valid base64"},
		{"v=DKIM1; garbage; p=AQID", `"garbage" is not tag=value`},
		{"v=DKIM1; 1x=y; p=AQID", `"1x" is not a valid tag name`},
		{"v=DKIM1; h=sha-256; p=AQID", `bad hash algorithm "sha-256"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseDKIM(tt.in)
			if !errors.Is(err, ErrDKIMSyntax) {
				t.Fatalf("error %v is not ErrDKIMSyntax", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}
