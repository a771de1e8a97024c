package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI is an in-memory Cloudflare API v4 serving the endpoints the
// provider uses, with the response envelope Cloudflare documents
// (https://developers.cloudflare.com/api/): GET /zones?name=,
// GET /zones/{zone_id}/dns_records (name.exact, type, page, per_page,
// result_info) and POST /zones/{zone_id}/dns_records/batch (deletes,
// patches, puts, posts, run in that order in one transaction). It records
// every request.
type fakeAPI struct {
	t     *testing.T
	token string
	srv   *httptest.Server

	mu       sync.Mutex
	zones    []fakeZone
	records  []fakeRecord
	requests []fakeRequest
	nextID   int
	// maxPerPage caps per_page, to make listings span pages (0: no cap).
	maxPerPage int
	// override, when set, may answer a request instead of the API; it
	// reports whether it did.
	override func(w http.ResponseWriter, r *http.Request) bool
}

type fakeZone struct {
	ID, Name string
}

// fakeRecord is a DNS record object as the API returns it.
type fakeRecord struct {
	ID         string         `json:"id"`
	ZoneID     string         `json:"zone_id"`
	ZoneName   string         `json:"zone_name"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Content    string         `json:"content"`
	Priority   *float64       `json:"priority,omitempty"`
	Proxiable  bool           `json:"proxiable"`
	Proxied    bool           `json:"proxied"`
	TTL        float64        `json:"ttl"`
	Settings   map[string]any `json:"settings"`
	Meta       map[string]any `json:"meta"`
	Comment    *string        `json:"comment"`
	Tags       []string       `json:"tags"`
	CreatedOn  string         `json:"created_on"`
	ModifiedOn string         `json:"modified_on"`
}

// fakeRequest is one request the fake API received.
type fakeRequest struct {
	Method, Path string
	Query        url.Values
	Auth         string
	Body         string
}

func (r fakeRequest) String() string {
	s := r.Method + " " + r.Path
	if len(r.Query) > 0 {
		s += "?" + r.Query.Encode()
	}
	return s
}

const apiPrefix = "/client/v4"

func newFakeAPI(t *testing.T, token string) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/zones", f.listZones)
	mux.HandleFunc("GET "+apiPrefix+"/zones/{zone_id}/dns_records", f.listRecords)
	mux.HandleFunc("POST "+apiPrefix+"/zones/{zone_id}/dns_records/batch", f.batch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake API: unexpected request %s %s", r.Method, r.URL)
		fail(w, http.StatusNotFound, 7003, "Could not route to "+r.URL.Path+", perhaps your object identifier is invalid?")
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, fakeRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
			Auth: r.Header.Get("Authorization"), Body: string(body)})
		override := f.override
		f.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			fail(w, http.StatusForbidden, 9109, "Invalid access token")
			return
		}
		if override != nil && override(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// client is an HTTP client that can reach the fake API and nothing else.
func (f *fakeAPI) client() *http.Client {
	addr := f.srv.Listener.Addr().String()
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
				if a != addr {
					return nil, fmt.Errorf("test client: refusing to dial %s", a)
				}
				var d net.Dialer
				return d.DialContext(ctx, network, a)
			},
		},
	}
}

// config is a provider configuration for the fake API.
func (f *fakeAPI) config() Config {
	return Config{Token: f.token, APIURL: f.srv.URL + apiPrefix, HTTPClient: f.client()}
}

func (f *fakeAPI) addZone(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.zones = append(f.zones, fakeZone{ID: id, Name: name})
}

// add stores a record as if made through the dashboard and returns its id.
func (f *fakeAPI) add(zoneID, name, typ, content string, ttl float64, proxied bool, priority ...float64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	z, ok := f.zone(zoneID)
	if !ok {
		f.t.Fatalf("fake API: no zone %s", zoneID)
	}
	r := f.newRecord(z)
	r.Name, r.Type, r.Content, r.TTL, r.Proxied = name, typ, content, ttl, proxied
	r.Proxiable = proxiable(typ)
	if len(priority) > 0 {
		r.Priority = &priority[0]
	}
	f.records = append(f.records, r)
	return r.ID
}

// edit changes a stored record, as another user of the dashboard would.
func (f *fakeAPI) edit(id string, change func(*fakeRecord)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.records {
		if f.records[i].ID == id {
			change(&f.records[i])
			return
		}
	}
	f.t.Fatalf("fake API: no record %s", id)
}

func (f *fakeAPI) remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = slices.DeleteFunc(f.records, func(r fakeRecord) bool { return r.ID == id })
}

// snapshot returns a copy of every stored record.
func (f *fakeAPI) snapshot() []fakeRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.records)
}

// take returns the requests received since the last take.
func (f *fakeAPI) take() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

func (f *fakeAPI) zone(id string) (fakeZone, bool) {
	for _, z := range f.zones {
		if z.ID == id {
			return z, true
		}
	}
	return fakeZone{}, false
}

func (f *fakeAPI) newRecord(z fakeZone) fakeRecord {
	f.nextID++
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC3339Nano)
	return fakeRecord{ID: fmt.Sprintf("%032x", f.nextID), ZoneID: z.ID, ZoneName: z.Name,
		Settings: map[string]any{}, Meta: map[string]any{}, Tags: []string{}, CreatedOn: now, ModifiedOn: now}
}

func proxiable(typ string) bool { return typ == "A" || typ == "AAAA" || typ == "CNAME" }

// envelopeJSON writes Cloudflare's response envelope.
func envelopeJSON(w http.ResponseWriter, status int, result any, info any) {
	body := map[string]any{"success": status < 400, "errors": []any{}, "messages": []any{}, "result": result}
	if info != nil {
		body["result_info"] = info
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// fail writes an error envelope.
func fail(w http.ResponseWriter, status int, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "messages": []any{}, "result": nil,
		"errors": []any{map[string]any{"code": code, "message": msg}}})
}

// page cuts items into the page the query asks for and its result_info.
func page[T any](f *fakeAPI, q url.Values, items []T, defaultPerPage int) ([]T, map[string]any) {
	pg, err := strconv.Atoi(q.Get("page"))
	if err != nil || pg < 1 {
		pg = 1
	}
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = defaultPerPage
	}
	if f.maxPerPage > 0 && per > f.maxPerPage {
		per = f.maxPerPage
	}
	start := min((pg-1)*per, len(items))
	end := min(start+per, len(items))
	out := slices.Clone(items[start:end])
	if out == nil {
		out = []T{}
	}
	return out, map[string]any{"page": pg, "per_page": per, "count": len(out), "total_count": len(items),
		"total_pages": int(math.Ceil(float64(len(items)) / float64(per)))}
}

// listZones is GET /zones: the name filter matches the whole name.
func (f *fakeAPI) listZones(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, z := range f.zones {
		if n := r.URL.Query().Get("name"); n != "" && n != z.Name {
			continue
		}
		out = append(out, map[string]any{
			"id":               z.ID,
			"name":             z.Name,
			"status":           "active",
			"paused":           false,
			"type":             "full",
			"development_mode": 0,
			"name_servers":     []string{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"},
			"account":          map[string]any{"id": "01a7362d577a6c3019a474fd6f485823", "name": "Example Account"},
			"created_on":       "2026-01-01T00:00:00Z",
			"modified_on":      "2026-01-01T00:00:00Z",
			"activated_on":     "2026-01-01T00:00:00Z",
		})
	}
	res, info := page(f, r.URL.Query(), out, 20)
	envelopeJSON(w, http.StatusOK, res, info)
}

// listRecords is GET /zones/{zone_id}/dns_records with the name.exact and
// type filters.
func (f *fakeAPI) listRecords(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	zoneID := r.PathValue("zone_id")
	if _, ok := f.zone(zoneID); !ok {
		fail(w, http.StatusNotFound, 7003, "Could not route to /zones/"+zoneID+"/dns_records, perhaps your object identifier is invalid?")
		return
	}
	q := r.URL.Query()
	var out []fakeRecord
	for _, rec := range f.records {
		if rec.ZoneID != zoneID ||
			(q.Has("name.exact") && !strings.EqualFold(q.Get("name.exact"), rec.Name)) ||
			(q.Has("type") && q.Get("type") != rec.Type) {
			continue
		}
		out = append(out, rec)
	}
	res, info := page(f, q, out, 100)
	envelopeJSON(w, http.StatusOK, res, info)
}

// batchBody is the body of POST /zones/{zone_id}/dns_records/batch.
type batchBody struct {
	Deletes []struct {
		ID string `json:"id"`
	} `json:"deletes"`
	Patches []map[string]any `json:"patches"`
	Puts    []map[string]any `json:"puts"`
	Posts   []map[string]any `json:"posts"`
}

// batchError is an error of one operation; it fails the whole batch.
type batchError struct {
	code int
	msg  string
}

// batch is POST /zones/{zone_id}/dns_records/batch: deletes, patches,
// puts, then posts, in one transaction: when one fails nothing changes.
func (f *fakeAPI) batch(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z, ok := f.zone(r.PathValue("zone_id"))
	if !ok {
		fail(w, http.StatusNotFound, 7003, "Could not route to zone, perhaps your object identifier is invalid?")
		return
	}
	var body batchBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		fail(w, http.StatusBadRequest, 9207, "Request body is invalid: "+err.Error())
		return
	}
	recs := slices.Clone(f.records)
	nextID := f.nextID
	result := map[string][]fakeRecord{"deletes": {}, "patches": {}, "puts": {}, "posts": {}}
	find := func(id string) int {
		return slices.IndexFunc(recs, func(x fakeRecord) bool { return x.ID == id && x.ZoneID == z.ID })
	}
	var berr *batchError
	for _, d := range body.Deletes {
		i := find(d.ID)
		if i < 0 {
			berr = &batchError{81044, "Record does not exist."}
			break
		}
		result["deletes"] = append(result["deletes"], recs[i])
		recs = slices.Delete(recs, i, i+1)
	}
	for _, op := range []string{"patches", "puts"} {
		list := body.Patches
		if op == "puts" {
			list = body.Puts
		}
		for _, p := range list {
			if berr != nil {
				break
			}
			id, _ := p["id"].(string)
			i := find(id)
			if i < 0 {
				berr = &batchError{81044, "Record does not exist."}
				break
			}
			rec := recs[i]
			if op == "puts" {
				rec = fakeRecord{ID: rec.ID, ZoneID: rec.ZoneID, ZoneName: rec.ZoneName, Settings: map[string]any{},
					Meta: map[string]any{}, Tags: []string{}, CreatedOn: rec.CreatedOn, ModifiedOn: rec.ModifiedOn}
			}
			if berr = setFields(&rec, p, z); berr == nil {
				berr = checkRecord(recs, i, rec, z)
			}
			if berr == nil {
				recs[i] = rec
				result[op] = append(result[op], rec)
			}
		}
	}
	for _, p := range body.Posts {
		if berr != nil {
			break
		}
		nextID++
		rec := fakeRecord{ID: fmt.Sprintf("%032x", nextID), ZoneID: z.ID, ZoneName: z.Name, Settings: map[string]any{},
			Meta: map[string]any{}, Tags: []string{}, CreatedOn: "2026-01-02T03:04:05Z", ModifiedOn: "2026-01-02T03:04:05Z"}
		if berr = setFields(&rec, p, z); berr == nil {
			berr = checkRecord(recs, -1, rec, z)
		}
		if berr == nil {
			recs = append(recs, rec)
			result["posts"] = append(result["posts"], rec)
		}
	}
	if berr != nil {
		fail(w, http.StatusBadRequest, berr.code, berr.msg)
		return
	}
	f.records, f.nextID = recs, nextID
	envelopeJSON(w, http.StatusOK, result, nil)
}

// setFields copies the fields of a post, patch or put body into rec.
func setFields(rec *fakeRecord, p map[string]any, z fakeZone) *batchError {
	for k, v := range p {
		switch k {
		case "id":
		case "name":
			s, _ := v.(string)
			rec.Name = strings.ToLower(strings.TrimSuffix(s, "."))
		case "type":
			rec.Type, _ = v.(string)
			rec.Proxiable = proxiable(rec.Type)
		case "content":
			rec.Content, _ = v.(string)
		case "ttl":
			rec.TTL, _ = v.(float64)
		case "priority":
			n, _ := v.(float64)
			rec.Priority = &n
		case "proxied":
			rec.Proxied, _ = v.(bool)
		case "comment":
			s, _ := v.(string)
			rec.Comment = &s
		default:
			return &batchError{9000, fmt.Sprintf("DNS record field %q is not supported by this test server", k)}
		}
	}
	return nil
}

// checkRecord validates rec as Cloudflare does, against the other records
// of the zone (recs without index self).
func checkRecord(recs []fakeRecord, self int, rec fakeRecord, z fakeZone) *batchError {
	if rec.Name == "" || (rec.Name != z.Name && !strings.HasSuffix(rec.Name, "."+z.Name)) {
		return &batchError{9005, "Content for name is invalid: not in zone " + z.Name}
	}
	if rec.TTL != 1 && (rec.TTL < 60 || rec.TTL > 86400) {
		return &batchError{9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."}
	}
	if rec.Proxied && !rec.Proxiable {
		return &batchError{9004, "This record type cannot be proxied."}
	}
	switch rec.Type {
	case "A", "AAAA":
		a, err := netip.ParseAddr(rec.Content)
		if err != nil || a.Is4() != (rec.Type == "A") {
			return &batchError{9005, "Content for " + rec.Type + " record is invalid."}
		}
	case "MX":
		if rec.Priority == nil {
			return &batchError{9100, "MX records must have a priority."}
		}
		if rec.Content == "" || strings.HasSuffix(rec.Content, ".") {
			return &batchError{9005, "Content for MX record is invalid."}
		}
	case "CNAME":
		if rec.Content == "" {
			return &batchError{9005, "Content for CNAME record is invalid."}
		}
	case "TXT":
		if rec.Content == "" {
			return &batchError{9005, "Content for TXT record is invalid."}
		}
		if strings.HasPrefix(rec.Content, `"`) {
			// Quoted character-strings: each at most 255 bytes.
			for _, s := range quotedStrings(rec.Content) {
				if len(s) > 255 {
					return &batchError{9005, "TXT content has a character-string longer than 255 bytes."}
				}
			}
		}
	default:
		return &batchError{9020, "Invalid DNS record type."}
	}
	for i, o := range recs {
		if i == self || o.ZoneID != rec.ZoneID || !strings.EqualFold(o.Name, rec.Name) {
			continue
		}
		if o.Type == rec.Type && o.Content == rec.Content {
			return &batchError{81058, "An identical record already exists."}
		}
		if (o.Type == "CNAME") != (rec.Type == "CNAME") {
			return &batchError{81053, "An A, AAAA, or CNAME record with that host already exists."}
		}
	}
	return nil
}

// quotedStrings splits quoted content into its strings, unescaped.
func quotedStrings(content string) []string {
	var out []string
	in := false
	var cur strings.Builder
	for i := 0; i < len(content); i++ {
		c := content[i]
		switch {
		case c == '"':
			if in {
				out = append(out, cur.String())
				cur.Reset()
			}
			in = !in
		case in && c == '\\' && i+1 < len(content):
			if i+3 < len(content) && isDigits(content[i+1:i+4]) {
				n, _ := strconv.Atoi(content[i+1 : i+4])
				cur.WriteByte(byte(n))
				i += 3
				continue
			}
			cur.WriteByte(content[i+1])
			i++
		case in:
			cur.WriteByte(c)
		}
	}
	return out
}

func isDigits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}
