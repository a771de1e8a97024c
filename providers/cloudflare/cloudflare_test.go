package cloudflare

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/records"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	testToken = "cf-test-token-Zx9Qw8Er7Ty6"
	testZone  = "023e105f4ecef8ad9ca31a8372d0c353"
	otherZone = "9a7806061c88ada191ed06f989cc3dac"
)

// dkimValue is a DKIM record of a 2048-bit RSA key's length: 410 bytes,
// more than one character-string holds.
func dkimValue(seed byte) string {
	key := make([]byte, 294) // a 2048-bit SubjectPublicKeyInfo
	for i := range key {
		key[i] = byte(i) + seed
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(key)
}

// seed fills a fake API with example.com as a dashboard user would have
// left it, and returns the record ids by label.
func seed(t *testing.T) (*fakeAPI, map[string]string) {
	t.Helper()
	api := newFakeAPI(t, testToken)
	api.addZone(testZone, "example.com")
	api.addZone(otherZone, "example.net")
	dkim := dkimValue(0)
	if len(dkim) != 410 {
		t.Fatalf("dkimValue is %d bytes, want 410", len(dkim))
	}
	ids := map[string]string{
		"mx":      api.add(testZone, "example.com", "MX", "mail.example.com", 3600, false, 10),
		"spf":     api.add(testZone, "example.com", "TXT", "v=spf1 mx -all", 3600, false),
		"verify":  api.add(testZone, "example.com", "TXT", `"google-site-verification=abc123"`, 3600, false),
		"a":       api.add(testZone, "mail.example.com", "A", "203.0.113.10", 1, true),
		"aaaa":    api.add(testZone, "mail.example.com", "AAAA", "2001:0db8:0:0::10", 3600, false),
		"dkim":    api.add(testZone, "sel1._domainkey.example.com", "TXT", `"`+dkim[:255]+`" "`+dkim[255:]+`"`, 1, false),
		"dmarc":   api.add(testZone, "_dmarc.example.com", "TXT", `"v=DMARC1; p=none; rua=mailto:dmarc@example.com"`, 3600, false),
		"cname":   api.add(testZone, "autoconfig.example.com", "CNAME", "mail.example.com", 300, false),
		"ns":      api.add(testZone, "example.com", "NS", "ada.ns.cloudflare.com", 86400, false),
		"caa":     api.add(testZone, "example.com", "CAA", `0 issue "letsencrypt.org"`, 3600, false),
		"www":     api.add(testZone, "www.example.com", "A", "203.0.113.80", 1, true),
		"example": api.add(otherZone, "example.net", "TXT", "v=spf1 -all", 3600, false),
	}
	return api, ids
}

func newProvider(t *testing.T, cfg Config) *Provider {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

var readNames = []string{"example.com.", "mail.example.com.", "sel1._domainkey.example.com.", "_dmarc.example.com.", "autoconfig.example.com."}

// wantRequests checks the requests the fake API got, in order, and that
// each carried the token.
func wantRequests(t *testing.T, got []fakeRequest, want ...string) {
	t.Helper()
	var lines []string
	for _, r := range got {
		lines = append(lines, r.String())
		if r.Auth != "Bearer "+testToken {
			t.Errorf("%s: Authorization %q, want %q", r, r.Auth, "Bearer "+testToken)
		}
	}
	if !slices.Equal(lines, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func listRequest(name string) string {
	return "GET /client/v4/zones/" + testZone + "/dns_records?name.exact=" + name + "&page=1&per_page=100"
}

const zoneRequest = "GET /client/v4/zones?name=example.com"

// noToken fails when err's text holds a token.
func noToken(t *testing.T, err error, tokens ...string) {
	t.Helper()
	for _, tok := range append(tokens, testToken) {
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Errorf("error holds the token: %v", err)
		}
	}
}

func TestReadNormalises(t *testing.T) {
	api, ids := seed(t)
	p := newProvider(t, api.config())
	got, err := p.Read(context.Background(), "example.com.", readNames)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	rec := func(name, typ, value string, ttl uint32, prio uint16) records.Record {
		return records.Record{Zone: "example.com", Name: name, Type: typ, Value: value, TTL: ttl, Priority: prio}
	}
	want := []providers.Existing{
		{Record: rec("example.com.", "MX", "mail.example.com.", 3600, 10), ID: ids["mx"]},
		{Record: rec("example.com.", "TXT", "v=spf1 mx -all", 3600, 0), ID: ids["spf"]},                     // plain
		{Record: rec("example.com.", "TXT", "google-site-verification=abc123", 3600, 0), ID: ids["verify"]}, // quoted
		{Record: rec("mail.example.com.", "A", "203.0.113.10", 1, 0), ID: ids["a"], Proxied: true},
		{Record: rec("mail.example.com.", "AAAA", "2001:db8::10", 3600, 0), ID: ids["aaaa"]},
		{Record: rec("sel1._domainkey.example.com.", "TXT", dkimValue(0), 1, 0), ID: ids["dkim"]}, // two strings
		{Record: rec("_dmarc.example.com.", "TXT", "v=DMARC1; p=none; rua=mailto:dmarc@example.com", 3600, 0), ID: ids["dmarc"]},
		{Record: rec("autoconfig.example.com.", "CNAME", "mail.example.com.", 300, 0), ID: ids["cname"]},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read:\n%s\nwant:\n%s", dump(got), dump(want))
	}
	wantRequests(t, api.take(),
		zoneRequest,
		listRequest("example.com"),
		listRequest("mail.example.com"),
		listRequest("sel1._domainkey.example.com"),
		listRequest("_dmarc.example.com"),
		listRequest("autoconfig.example.com"),
	)

	// The zone id is looked up once; names are matched without regard to
	// case and spelled as asked; a name asked twice is listed once.
	got, err = p.Read(context.Background(), "example.com", []string{"MAIL.example.com.", "mail.example.com."})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != 2 || got[0].Name != "MAIL.example.com." || got[1].Type != "AAAA" {
		t.Errorf("Read MAIL.example.com.:\n%s", dump(got))
	}
	wantRequests(t, api.take(), listRequest("MAIL.example.com"))
}

func TestReadPages(t *testing.T) {
	api, _ := seed(t)
	api.maxPerPage = 2
	var want []string
	for i := range 5 {
		v := fmt.Sprintf("token-%d", i)
		api.add(testZone, "_verify.example.com", "TXT", v, 3600, false)
		want = append(want, v)
	}
	p := newProvider(t, api.config())
	got, err := p.Read(context.Background(), "example.com", []string{"_verify.example.com."})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var values []string
	for _, e := range got {
		values = append(values, e.Value)
	}
	if !slices.Equal(values, want) {
		t.Errorf("Read values %q, want %q", values, want)
	}
	base := "GET /client/v4/zones/" + testZone + "/dns_records?name.exact=_verify.example.com"
	wantRequests(t, api.take(), zoneRequest,
		base+"&page=1&per_page=100", base+"&page=2&per_page=100", base+"&page=3&per_page=100")
}

func TestReadEmptyAndForeignNames(t *testing.T) {
	api, _ := seed(t)
	p := newProvider(t, api.config())
	got, err := p.Read(context.Background(), "example.com", nil)
	if err != nil || got != nil {
		t.Errorf("Read of no names = %v, %v; want nil, nil", got, err)
	}
	if _, err := p.Read(context.Background(), "example.com", []string{"mail.example.net."}); err == nil {
		t.Error("Read of a name outside the zone: no error")
	}
	if _, err := p.Read(context.Background(), "example.com", []string{"badexample.com."}); err == nil {
		t.Error("Read of a name that only ends like the zone: no error")
	}
	wantRequests(t, api.take())
}

// get returns the record of have with type and name.
func get(t *testing.T, have []providers.Existing, typ, name, value string) *providers.Existing {
	t.Helper()
	for i, e := range have {
		if e.Type == typ && e.Name == name && (value == "" || e.Value == value) {
			return &have[i]
		}
	}
	t.Fatalf("no %s %s %q in %s", typ, name, value, dump(have))
	return nil
}

func rr(name, typ, value string, ttl uint32, prio uint16) records.Record {
	return records.Record{Zone: "example.com", Name: name, Type: typ, Value: value, TTL: ttl, Priority: prio}
}

func TestApply(t *testing.T) {
	api, ids := seed(t)
	p := newProvider(t, api.config())
	ctx := context.Background()
	have, err := p.Read(ctx, "example.com", readNames)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	api.take()

	dkim2 := dkimValue(7)
	plan := providers.Plan{Zone: "example.com", Changes: []providers.Change{
		{Action: providers.Create, New: rr("mx.example.com.", "A", "203.0.113.20", 3600, 0)},
		{Action: providers.Create, New: rr("mx.example.com.", "AAAA", "2001:db8::20", 3600, 0)},
		{Action: providers.Update, Old: get(t, have, "MX", "example.com.", ""), New: rr("example.com.", "MX", "mx.example.com.", 3600, 0)},
		{Action: providers.Update, Old: get(t, have, "TXT", "example.com.", "v=spf1 mx -all"),
			New: rr("example.com.", "TXT", "v=spf1 mx a:mx.example.com -all", 3600, 0)},
		{Action: providers.Unchanged, Old: get(t, have, "TXT", "example.com.", "google-site-verification=abc123"),
			New: rr("example.com.", "TXT", "google-site-verification=abc123", 3600, 0)},
		{Action: providers.Create, New: rr("sel2._domainkey.example.com.", "TXT", dkim2, 3600, 0)},
		{Action: providers.Delete, Old: get(t, have, "TXT", "sel1._domainkey.example.com.", "")},
		{Action: providers.Update, Old: get(t, have, "CNAME", "autoconfig.example.com.", ""),
			New: rr("autoconfig.example.com.", "A", "203.0.113.20", 300, 0)},
		{Action: providers.Update, Old: get(t, have, "A", "mail.example.com.", ""), New: rr("mail.example.com.", "A", "203.0.113.10", 3600, 0)},
	}}
	if err := p.Apply(ctx, plan); err != nil {
		t.Fatalf("Apply: %v", err)
	}

	reqs := api.take()
	batchPath := "POST /client/v4/zones/" + testZone + "/dns_records/batch"
	wantRequests(t, reqs,
		listRequest("example.com"),
		listRequest("sel1._domainkey.example.com"),
		listRequest("autoconfig.example.com"),
		listRequest("mail.example.com"),
		batchPath,
	)
	if len(reqs) == 0 {
		t.FailNow()
	}
	raw := reqs[len(reqs)-1].Body
	golden(t, indentJSON(t, raw))

	var body batchBody
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatalf("batch body: %v", err)
	}
	var deleted []string
	for _, d := range body.Deletes {
		deleted = append(deleted, d.ID)
	}
	if want := []string{ids["dkim"], ids["cname"]}; !slices.Equal(deleted, want) {
		t.Errorf("batch deletes %q, want %q", deleted, want)
	}
	for _, r := range append(slices.Clone(body.Posts), body.Patches...) {
		switch r["type"] {
		case "A", "AAAA", "CNAME":
			if r["proxied"] != false {
				t.Errorf("batch %v: proxied %v, want false", r, r["proxied"])
			}
		case "MX":
			if prio, ok := r["priority"]; !ok || prio != 0.0 {
				t.Errorf("batch %v: priority %v, want 0", r, prio)
			}
			if r["content"] != "mx.example.com" {
				t.Errorf("batch %v: content %v, want mx.example.com", r, r["content"])
			}
		case "TXT":
			if _, ok := r["proxied"]; ok {
				t.Errorf("batch %v: TXT with proxied", r)
			}
		}
		if r["name"] == "sel2._domainkey.example.com" {
			want := `"` + dkim2[:255] + `" "` + dkim2[255:] + `"`
			if r["content"] != want {
				t.Errorf("DKIM content\n%v\nwant two quoted strings\n%s", r["content"], want)
			}
		}
	}
	if len(body.Posts) != 4 || len(body.Patches) != 3 || len(body.Puts) != 0 {
		t.Errorf("batch has %d posts, %d patches, %d puts; want 4, 3, 0", len(body.Posts), len(body.Patches), len(body.Puts))
	}

	// What was applied reads back as planned.
	after, err := p.Read(ctx, "example.com", append(readNames, "mx.example.com.", "sel2._domainkey.example.com."))
	if err != nil {
		t.Fatalf("Read after Apply: %v", err)
	}
	for _, c := range plan.Changes {
		switch c.Action {
		case providers.Create, providers.Update, providers.Unchanged:
			e := get(t, after, c.New.Type, c.New.Name, c.New.Value)
			if e.TTL != c.New.TTL || e.Priority != c.New.Priority || e.Proxied {
				t.Errorf("after Apply %s %s: %+v, want %+v unproxied", c.New.Type, c.New.Name, e.Record, c.New)
			}
			if c.Action != providers.Create && c.Old.Type == c.New.Type && e.ID != c.Old.ID {
				t.Errorf("after Apply %s %s: id %s, want the record updated in place (%s)", c.New.Type, c.New.Name, e.ID, c.Old.ID)
			}
		}
	}
	for _, e := range after {
		if e.ID == ids["dkim"] || e.ID == ids["cname"] {
			t.Errorf("after Apply: %s %s (id %s) still there", e.Type, e.Name, e.ID)
		}
	}
	if len(after) != 10 {
		t.Errorf("after Apply: %d records, want 10:\n%s", len(after), dump(after))
	}
}

func TestApplyChanged(t *testing.T) {
	tests := []struct {
		name   string
		change func(api *fakeAPI, ids map[string]string)
	}{
		{"content", func(api *fakeAPI, ids map[string]string) {
			api.edit(ids["spf"], func(r *fakeRecord) { r.Content = "v=spf1 a mx -all" })
		}},
		{"deleted", func(api *fakeAPI, ids map[string]string) { api.remove(ids["spf"]) }},
		{"recreated", func(api *fakeAPI, ids map[string]string) {
			api.remove(ids["spf"])
			api.add(testZone, "example.com", "TXT", "v=spf1 mx -all", 3600, false)
		}},
		{"ttl", func(api *fakeAPI, ids map[string]string) {
			api.edit(ids["aaaa"], func(r *fakeRecord) { r.TTL = 300 })
		}},
		{"proxied", func(api *fakeAPI, ids map[string]string) {
			api.edit(ids["aaaa"], func(r *fakeRecord) { r.Proxied = true })
		}},
		{"unchanged record", func(api *fakeAPI, ids map[string]string) {
			api.edit(ids["dmarc"], func(r *fakeRecord) { r.Content = `"v=DMARC1; p=reject"` })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, ids := seed(t)
			p := newProvider(t, api.config())
			ctx := context.Background()
			have, err := p.Read(ctx, "example.com", readNames)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			dmarc := get(t, have, "TXT", "_dmarc.example.com.", "")
			plan := providers.Plan{Zone: "example.com", Changes: []providers.Change{
				{Action: providers.Update, Old: get(t, have, "TXT", "example.com.", "v=spf1 mx -all"),
					New: rr("example.com.", "TXT", "v=spf1 mx include:_spf.example.net -all", 3600, 0)},
				{Action: providers.Update, Old: get(t, have, "AAAA", "mail.example.com.", ""),
					New: rr("mail.example.com.", "AAAA", "2001:db8::11", 3600, 0)},
				{Action: providers.Unchanged, Old: dmarc, New: dmarc.Record},
				{Action: providers.Create, New: rr("sel2._domainkey.example.com.", "TXT", dkimValue(1), 3600, 0)},
			}}
			tt.change(api, ids)
			before := api.snapshot()
			api.take()

			err = p.Apply(ctx, plan)
			if !errors.Is(err, providers.ErrChanged) {
				t.Fatalf("Apply = %v, want ErrChanged", err)
			}
			noToken(t, err)
			for _, r := range api.take() {
				if r.Method != http.MethodGet {
					t.Errorf("Apply sent %s after the zone changed", r)
				}
			}
			if !reflect.DeepEqual(api.snapshot(), before) {
				t.Error("Apply changed the zone after it had changed")
			}
		})
	}
}

func TestApplyRefusesConflicts(t *testing.T) {
	api, _ := seed(t)
	p := newProvider(t, api.config())
	old := providers.Existing{Record: rr("mail.example.com.", "A", "203.0.113.10", 1, 0), ID: "x", Proxied: true}
	plan := providers.Plan{Zone: "example.com", Changes: []providers.Change{
		{Action: providers.Create, New: rr("example.com.", "TXT", "v=spf1 mx -all", 3600, 0)},
		{Action: providers.Conflict, Old: &old, New: rr("mail.example.com.", "A", "203.0.113.10", 3600, 0), Why: "the mail host is proxied"},
	}}
	err := p.Apply(context.Background(), plan)
	if !errors.Is(err, providers.ErrConflict) {
		t.Fatalf("Apply = %v, want ErrConflict", err)
	}
	wantRequests(t, api.take())
}

func TestApplyNothingPending(t *testing.T) {
	api, _ := seed(t)
	p := newProvider(t, api.config())
	old := providers.Existing{Record: rr("example.com.", "TXT", "v=spf1 mx -all", 3600, 0), ID: "x"}
	for _, plan := range []providers.Plan{
		{Zone: "example.com"},
		{Zone: "example.com", Changes: []providers.Change{{Action: providers.Unchanged, Old: &old, New: old.Record}}},
	} {
		if err := p.Apply(context.Background(), plan); err != nil {
			t.Errorf("Apply(%v) = %v", plan, err)
		}
	}
	wantRequests(t, api.take())
}

func TestApplyInvalidPlan(t *testing.T) {
	api, _ := seed(t)
	p := newProvider(t, api.config())
	tests := map[string]providers.Change{
		"outside the zone": {Action: providers.Create, New: rr("mail.example.net.", "A", "203.0.113.1", 3600, 0)},
		"update without id": {Action: providers.Update, Old: &providers.Existing{Record: rr("example.com.", "TXT", "a", 3600, 0)},
			New: rr("example.com.", "TXT", "b", 3600, 0)},
		"delete without old": {Action: providers.Delete, New: rr("example.com.", "TXT", "a", 3600, 0)},
		"PTR":                {Action: providers.Create, New: rr("10.example.com.", "PTR", "mail.example.com.", 3600, 0)},
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			err := p.Apply(context.Background(), providers.Plan{Zone: "example.com", Changes: []providers.Change{c}})
			if err == nil {
				t.Fatal("Apply: no error")
			}
			wantRequests(t, api.take())
		})
	}
}

// A batch the API refuses changes nothing, not even its valid parts.
func TestApplyBatchRefused(t *testing.T) {
	api, _ := seed(t)
	p := newProvider(t, api.config())
	plan := providers.Plan{Zone: "example.com", Changes: []providers.Change{
		{Action: providers.Create, New: rr("sel2._domainkey.example.com.", "TXT", dkimValue(2), 3600, 0)},
		{Action: providers.Create, New: rr("example.com.", "TXT", "google-site-verification=abc123", 3600, 0)},
	}}
	before := api.snapshot()
	err := p.Apply(context.Background(), plan)
	var aerr *APIError
	if !errors.As(err, &aerr) || aerr.StatusCode != http.StatusBadRequest || aerr.Auth() {
		t.Fatalf("Apply = %v, want an APIError with status 400", err)
	}
	if !strings.Contains(err.Error(), "An identical record already exists. (code 81058)") {
		t.Errorf("Apply error %q does not give the API's message", err)
	}
	noToken(t, err)
	if !reflect.DeepEqual(api.snapshot(), before) {
		t.Error("a refused batch changed the zone")
	}
	wantRequests(t, api.take(), zoneRequest, "POST /client/v4/zones/"+testZone+"/dns_records/batch")
}

func TestAPIErrors(t *testing.T) {
	ctx := context.Background()
	errJSON := func(w http.ResponseWriter, status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After-Ms", "0")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"success":false,"errors":[{"code":1000,"message":%q}],"messages":[],"result":null}`, msg)
	}

	t.Run("bad token", func(t *testing.T) {
		api, _ := seed(t)
		cfg := api.config()
		cfg.Token = "wrong-token-Qq1Ww2Ee3"
		p := newProvider(t, cfg)
		_, err := p.Read(ctx, "example.com", readNames)
		var aerr *APIError
		if !errors.As(err, &aerr) || aerr.StatusCode != http.StatusForbidden || !aerr.Auth() {
			t.Fatalf("Read = %v, want a 403 APIError", err)
		}
		for _, s := range []string{"finding the zone example.com", "403 Forbidden", "Invalid access token (code 9109)", "Zone:Read and DNS:Edit"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not say %q", err, s)
			}
		}
		noToken(t, err, cfg.Token)
		reqs := api.take()
		if len(reqs) != 1 || reqs[0].Auth != "Bearer "+cfg.Token {
			t.Errorf("requests %v, want one with the given token", reqs)
		}
	})

	t.Run("success false", func(t *testing.T) {
		api, _ := seed(t)
		api.override = func(w http.ResponseWriter, r *http.Request) bool {
			errJSON(w, http.StatusOK, "zone listing is unavailable")
			return true
		}
		_, err := newProvider(t, api.config()).Read(ctx, "example.com", readNames)
		var aerr *APIError
		if !errors.As(err, &aerr) || !strings.Contains(err.Error(), "zone listing is unavailable (code 1000)") {
			t.Fatalf("Read = %v, want the APIError of a success:false envelope", err)
		}
		noToken(t, err)
	})

	t.Run("no zone", func(t *testing.T) {
		api, _ := seed(t)
		_, err := newProvider(t, api.config()).Read(ctx, "example.org", []string{"example.org."})
		if !errors.Is(err, ErrZone) || !strings.Contains(err.Error(), "example.org") || !strings.Contains(err.Error(), "Zone:Read and DNS:Edit") {
			t.Fatalf("Read = %v, want ErrZone naming the zone and the permissions", err)
		}
		wantRequests(t, api.take(), "GET /client/v4/zones?name=example.org")
	})

	t.Run("several zones", func(t *testing.T) {
		api, _ := seed(t)
		api.addZone("5b2e1ec5e8e4f41b4f8c1ad5c0c0b7a1", "example.com")
		_, err := newProvider(t, api.config()).Read(ctx, "example.com", readNames)
		if !errors.Is(err, ErrZone) || !strings.Contains(err.Error(), "2 zones named example.com") {
			t.Fatalf("Read = %v, want ErrZone for two zones", err)
		}
	})

	t.Run("read retried twice", func(t *testing.T) {
		api, _ := seed(t)
		api.override = func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/dns_records") {
				errJSON(w, http.StatusServiceUnavailable, "try later")
				return true
			}
			return false
		}
		_, err := newProvider(t, api.config()).Read(ctx, "example.com", []string{"example.com."})
		var aerr *APIError
		if !errors.As(err, &aerr) || aerr.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("Read = %v, want a 503 APIError", err)
		}
		wantRequests(t, api.take(), zoneRequest, listRequest("example.com"), listRequest("example.com"), listRequest("example.com"))
	})

	t.Run("rate limited once", func(t *testing.T) {
		api, _ := seed(t)
		limited := false
		api.override = func(w http.ResponseWriter, r *http.Request) bool {
			if !limited {
				limited = true
				errJSON(w, http.StatusTooManyRequests, "rate limited")
				return true
			}
			return false
		}
		got, err := newProvider(t, api.config()).Read(ctx, "example.com", []string{"example.com."})
		if err != nil || len(got) != 3 {
			t.Fatalf("Read = %v, %v; want 3 records after one retry", got, err)
		}
		wantRequests(t, api.take(), zoneRequest, zoneRequest, listRequest("example.com"))
	})

	t.Run("batch not retried", func(t *testing.T) {
		api, _ := seed(t)
		api.override = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPost {
				errJSON(w, http.StatusBadGateway, "upstream error")
				return true
			}
			return false
		}
		plan := providers.Plan{Zone: "example.com", Changes: []providers.Change{
			{Action: providers.Create, New: rr("sel2._domainkey.example.com.", "TXT", dkimValue(2), 3600, 0)},
		}}
		err := newProvider(t, api.config()).Apply(ctx, plan)
		var aerr *APIError
		if !errors.As(err, &aerr) || aerr.StatusCode != http.StatusBadGateway {
			t.Fatalf("Apply = %v, want a 502 APIError", err)
		}
		wantRequests(t, api.take(), zoneRequest, "POST /client/v4/zones/"+testZone+"/dns_records/batch")
	})
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no token":     {},
		"blank token":  {Token: " \n"},
		"inner space":  {Token: "abc def"},
		"bad URL":      {Token: "t", APIURL: "api.cloudflare.com"},
		"other scheme": {Token: "t", APIURL: "ftp://api.cloudflare.com/"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%s): no error", name)
		}
	}

	// A token file's newline is ignored.
	api, _ := seed(t)
	cfg := api.config()
	cfg.Token = testToken + "\n"
	if _, err := newProvider(t, cfg).Read(context.Background(), "example.com", []string{"example.com."}); err != nil {
		t.Fatalf("Read: %v", err)
	}
	wantRequests(t, api.take(), zoneRequest, listRequest("example.com"))

	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%+v", newProvider(t, cfg))} {
		if strings.Contains(s, testToken) {
			t.Errorf("formatted configuration holds the token: %s", s)
		}
	}
}

// roundTripFunc answers requests without a network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Without APIURL the provider calls Cloudflare's API, here intercepted
// before any connection is made.
func TestDefaultAPIURL(t *testing.T) {
	var urls []string
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		urls = append(urls, r.URL.String())
		return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"success":false,"errors":[{"code":9109,"message":"Invalid access token"}],"messages":[],"result":null}`)),
			Request: r}, nil
	})}
	t.Setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:1/ignored/")
	t.Setenv("CLOUDFLARE_API_KEY", "ignored")
	p := newProvider(t, Config{Token: testToken, HTTPClient: client})
	_, err := p.Read(context.Background(), "example.com", []string{"example.com."})
	var aerr *APIError
	if !errors.As(err, &aerr) {
		t.Fatalf("Read = %v, want an APIError", err)
	}
	noToken(t, err)
	if want := []string{"https://api.cloudflare.com/client/v4/zones?name=example.com"}; !slices.Equal(urls, want) {
		t.Errorf("requests %q, want %q", urls, want)
	}
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func indentJSON(t *testing.T, s string) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, s)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// golden compares got with testdata/<TestName>.golden; -update rewrites it.
func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n%s\nwant:\n%s", path, got, want)
	}
}
