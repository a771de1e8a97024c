// Package cloudflare is the providers.Provider for zones served by
// Cloudflare: it reads and changes DNS records through Cloudflare's API
// (v4) with the official SDK, github.com/cloudflare/cloudflare-go/v6.
//
// The API token (Zone:Read and DNS:Edit on the zone) comes from the caller
// and never appears in an error. The SDK is given every option explicitly,
// so no CLOUDFLARE_* environment variable changes where requests go or
// which credentials they carry.
package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	cloudflare "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/dns"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/packages/pagination"
	"github.com/cloudflare/cloudflare-go/v6/zones"

	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/records"
)

// DefaultAPIURL is the base of Cloudflare's API, used when Config.APIURL is "".
const DefaultAPIURL = "https://api.cloudflare.com/client/v4/"

const (
	// perPage is the page size asked for when listing DNS records.
	perPage = 100
	// maxPages bounds the listing of one name, against a server that
	// never says it is done.
	maxPages = 1000
	// readRetries is how often a read is retried on 429 or 5xx. Writes
	// are not retried: a batch that failed with 5xx may have been applied.
	readRetries = 2
)

// Config configures a Provider.
type Config struct {
	// Token is a Cloudflare API token with the Zone:Read and DNS:Edit
	// permissions on the zones to change. The CLI reads it from
	// CLOUDFLARE_API_TOKEN or --token-file; surrounding white space is
	// ignored.
	Token string
	// APIURL is the API base URL; "" means DefaultAPIURL.
	APIURL string
	// HTTPClient makes the requests; nil means a client with a one-minute
	// timeout.
	HTTPClient *http.Client
}

// String describes the configuration without the token, so that
// formatting a Config does not leak it.
func (c Config) String() string {
	tok := "unset"
	if c.Token != "" {
		tok = "set"
	}
	return fmt.Sprintf("cloudflare.Config{APIURL: %q, Token: %s}", c.APIURL, tok)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Provider reads and changes DNS records of Cloudflare zones.
type Provider struct {
	zones   *zones.ZoneService
	records *dns.RecordService
	// redact removes the token from an error's text.
	redact func(error) error

	mu      sync.Mutex
	zoneIDs map[string]string // zone name → zone id
}

var _ providers.Provider = (*Provider)(nil)

// New returns a Provider that calls the API at cfg.APIURL with cfg.Token.
// It makes no request.
func New(cfg Config) (*Provider, error) {
	token := strings.TrimSpace(cfg.Token)
	if token == "" {
		return nil, errors.New("cloudflare: no API token: set CLOUDFLARE_API_TOKEN or pass --token-file with a token that has the Zone:Read and DNS:Edit permissions")
	}
	if strings.ContainsAny(token, "\r\n\t ") {
		return nil, errors.New("cloudflare: the API token holds white space: check the token file")
	}
	base := cfg.APIURL
	if base == "" {
		base = DefaultAPIURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("cloudflare: API URL %q is not an http(s) URL", base)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: time.Minute}
	}
	opts := []option.RequestOption{
		option.WithBaseURL(u.String()),
		option.WithAPIToken(token),
		option.WithHTTPClient(client),
		option.WithMaxRetries(readRetries),
	}
	return &Provider{
		zones:   zones.NewZoneService(opts...),
		records: dns.NewRecordService(opts...),
		redact: func(err error) error {
			if err == nil || !strings.Contains(err.Error(), token) {
				return err
			}
			return redactedError{strings.ReplaceAll(err.Error(), token, "[token]")}
		},
		zoneIDs: map[string]string{},
	}, nil
}

// Name returns "cloudflare".
func (p *Provider) Name() string { return "cloudflare" }

// Read returns the A, AAAA, MX, TXT and CNAME records of zone at names
// (FQDNs with the trailing dot), listing each name with the API's exact
// name filter. Names come back spelled as asked; MX exchanges and CNAME
// targets get the trailing dot; TXT content, quoted character-strings or
// plain text, becomes the joined, unquoted value. A TTL of 1 is
// Cloudflare's "automatic".
func (p *Provider) Read(ctx context.Context, zone string, names []string) ([]providers.Existing, error) {
	zone = zoneName(zone)
	for _, n := range names {
		if !inZone(n, zone) {
			return nil, fmt.Errorf("cloudflare: name %q is not in the zone %s", n, zone)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	id, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	return p.read(ctx, zone, id, names)
}

func (p *Provider) read(ctx context.Context, zone, zoneID string, names []string) ([]providers.Existing, error) {
	var out []providers.Existing
	seen := map[string]bool{}
	for _, name := range names {
		name = fqdn(name)
		if seen[strings.ToLower(name)] {
			continue
		}
		seen[strings.ToLower(name)] = true
		rrs, err := p.list(ctx, zone, zoneID, name)
		if err != nil {
			return nil, err
		}
		for _, rr := range rrs {
			if e, ok := existing(zone, name, rr); ok {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// list returns every record at name, page by page. It pages itself
// rather than with the SDK's auto-pager, which requests the pages after
// the first without ctx and stops only at an empty page.
func (p *Provider) list(ctx context.Context, zone, zoneID, name string) ([]dns.RecordResponse, error) {
	var out []dns.RecordResponse
	op := "listing DNS records at " + name
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("cloudflare: %s: more than %d pages", op, maxPages)
		}
		var res *pagination.V4PagePaginationArray[dns.RecordResponse]
		err := p.do(op, zone, func(opts ...option.RequestOption) (err error) {
			res, err = p.records.List(ctx, dns.RecordListParams{
				ZoneID:  cloudflare.F(zoneID),
				Name:    cloudflare.F(dns.RecordListParamsName{Exact: cloudflare.F(host(name))}),
				Page:    cloudflare.F(float64(page)),
				PerPage: cloudflare.F(float64(perPage)),
			}, opts...)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Result...)
		if lastPage(res, page) {
			return out, nil
		}
	}
}

// lastPage reports whether res is the last page: by result_info's
// total_pages when the API sends it (the SDK does not decode it), else by
// a page shorter than asked for.
func lastPage(res *pagination.V4PagePaginationArray[dns.RecordResponse], page int) bool {
	if len(res.Result) == 0 {
		return true
	}
	var info struct {
		TotalPages *int `json:"total_pages"`
	}
	if err := json.Unmarshal([]byte(res.ResultInfo.JSON.RawJSON()), &info); err == nil && info.TotalPages != nil {
		return page >= *info.TotalPages
	}
	size := int(res.ResultInfo.PerPage)
	if size <= 0 {
		size = perPage
	}
	return len(res.Result) < size
}

// existing converts a record of the API into the record sendready
// compares, if it is one of the types sendready reads and lies at name.
func existing(zone, name string, rr dns.RecordResponse) (providers.Existing, bool) {
	if !strings.EqualFold(fqdn(rr.Name), name) {
		return providers.Existing{}, false
	}
	r := records.Record{Zone: zone, Name: name, Type: string(rr.Type), TTL: uint32(rr.TTL)}
	switch r.Type {
	case records.TypeA, records.TypeAAAA:
		r.Value = rr.Content
		if a, err := netip.ParseAddr(rr.Content); err == nil {
			r.Value = a.String()
		}
	case records.TypeCNAME:
		r.Value = fqdn(rr.Content)
	case records.TypeMX:
		r.Value = fqdn(rr.Content)
		r.Priority = uint16(rr.Priority)
	case records.TypeTXT:
		r.Value = txtValue(rr.Content)
	default:
		return providers.Existing{}, false
	}
	return providers.Existing{Record: r, ID: rr.ID, Proxied: rr.Proxied}, true
}

// Apply makes the plan's creates, updates and deletes in one batch request
// (POST /zones/{id}/dns_records/batch), which Cloudflare runs in one
// transaction: all of it is applied or none. Updates are patches of the
// record's id; an update that changes the type is a delete and a create.
// A, AAAA and CNAME records are sent with proxied false.
//
// Before the batch it reads the names of the plan's Old records again: if
// any is gone or differs (id, content, TTL, priority, proxied), Apply
// returns providers.ErrChanged and sends nothing. A plan that holds
// conflicts is refused with providers.ErrConflict. A plan with nothing
// pending makes no request.
func (p *Provider) Apply(ctx context.Context, plan providers.Plan) error {
	zone := zoneName(plan.Zone)
	if c := plan.Conflicts(); len(c) > 0 {
		return fmt.Errorf("%w: %d change(s) in %s need a decision, first %s %s: %s; nothing was applied",
			providers.ErrConflict, len(c), zone, c[0].New.Type, c[0].New.Name, c[0].Why)
	}
	if !plan.Pending() {
		return nil
	}
	b, err := newBatch(zone, plan)
	if err != nil {
		return err
	}
	id, err := p.zoneID(ctx, zone)
	if err != nil {
		return err
	}
	if err := p.unchanged(ctx, zone, id, plan); err != nil {
		return err
	}
	b.params.ZoneID = cloudflare.F(id)
	var res *dns.RecordBatchResponse
	op := fmt.Sprintf("applying %d change(s) to %s", b.count(), zone)
	err = p.do(op, zone, func(opts ...option.RequestOption) (err error) {
		opts = append(opts, option.WithMaxRetries(0))
		res, err = p.records.Batch(ctx, b.params, opts...)
		return err
	})
	if err != nil {
		return err
	}
	if len(res.Deletes) != len(b.params.Deletes.Value) || len(res.Patches) != len(b.params.Patches.Value) ||
		len(res.Posts) != len(b.params.Posts.Value) {
		return fmt.Errorf("cloudflare: %s: the API answered for %d deletes, %d updates and %d creates, not %d, %d and %d: read the zone to see what it holds",
			op, len(res.Deletes), len(res.Patches), len(res.Posts),
			len(b.params.Deletes.Value), len(b.params.Patches.Value), len(b.params.Posts.Value))
	}
	return nil
}

// unchanged re-reads the names of the plan's Old records and returns
// providers.ErrChanged if any is gone or differs from what was read.
func (p *Provider) unchanged(ctx context.Context, zone, zoneID string, plan providers.Plan) error {
	var olds []*providers.Existing
	var names []string
	for _, c := range plan.Changes {
		if c.Old != nil {
			olds = append(olds, c.Old)
			names = append(names, fqdn(c.Old.Name))
		}
	}
	if len(olds) == 0 {
		return nil
	}
	now, err := p.read(ctx, zone, zoneID, names)
	if err != nil {
		return err
	}
	byID := make(map[string]providers.Existing, len(now))
	for _, e := range now {
		byID[e.ID] = e
	}
	for _, old := range olds {
		cur, ok := byID[old.ID]
		switch {
		case !ok:
			return fmt.Errorf("%w: %s %s (id %s) is gone; nothing was applied: read the zone and plan again",
				providers.ErrChanged, old.Type, old.Name, old.ID)
		case !same(*old, cur):
			return fmt.Errorf("%w: %s %s (id %s) now holds %q (TTL %d, proxied %t), not %q (TTL %d, proxied %t); nothing was applied: read the zone and plan again",
				providers.ErrChanged, old.Type, old.Name, old.ID, show(cur.Record), cur.TTL, cur.Proxied, show(old.Record), old.TTL, old.Proxied)
		}
	}
	return nil
}

// same reports whether two reads of a record agree.
func same(a, b providers.Existing) bool {
	return a.ID == b.ID && a.Type == b.Type && strings.EqualFold(fqdn(a.Name), fqdn(b.Name)) &&
		a.Value == b.Value && a.TTL == b.TTL && a.Priority == b.Priority && a.Proxied == b.Proxied
}

// show is a record's data for a message: the value, with the priority for MX.
func show(r records.Record) string {
	if r.Type == records.TypeMX {
		return fmt.Sprintf("%d %s", r.Priority, r.Value)
	}
	return r.Value
}

// batch is the body of one batch request.
type batch struct {
	params dns.RecordBatchParams
}

func (b *batch) count() int {
	return len(b.params.Deletes.Value) + len(b.params.Patches.Value) + len(b.params.Posts.Value)
}

// newBatch turns the plan's pending changes into a batch, checking that
// every record lies in the zone and every update and delete names a record
// id. Cloudflare runs deletes first, then patches, then posts, so a record
// deleted or retyped makes room for the records created.
func newBatch(zone string, plan providers.Plan) (*batch, error) {
	var (
		deletes []dns.RecordBatchParamsDelete
		patches []dns.BatchPatchUnionParam
		posts   []dns.RecordBatchParamsPostUnion
	)
	for _, c := range plan.Changes {
		switch c.Action {
		case providers.Create, providers.Update:
			if !inZone(c.New.Name, zone) {
				return nil, fmt.Errorf("cloudflare: %s %s is not in the zone %s", c.New.Type, c.New.Name, zone)
			}
		}
		switch c.Action {
		case providers.Update, providers.Delete:
			if c.Old == nil || c.Old.ID == "" {
				return nil, fmt.Errorf("cloudflare: %s of %s %s names no Cloudflare record id: the plan was not made from a Cloudflare read",
					c.Action, c.New.Type, c.New.Name)
			}
		}
		switch {
		case c.Action == providers.Create:
			post, err := postParam(c.New)
			if err != nil {
				return nil, err
			}
			posts = append(posts, post)
		case c.Action == providers.Delete:
			deletes = append(deletes, dns.RecordBatchParamsDelete{ID: cloudflare.F(c.Old.ID)})
		case c.Action == providers.Update && c.Old.Type == c.New.Type:
			patch, err := patchParam(c.Old.ID, c.New)
			if err != nil {
				return nil, err
			}
			patches = append(patches, patch)
		case c.Action == providers.Update:
			post, err := postParam(c.New)
			if err != nil {
				return nil, err
			}
			deletes = append(deletes, dns.RecordBatchParamsDelete{ID: cloudflare.F(c.Old.ID)})
			posts = append(posts, post)
		}
	}
	var b batch
	if len(deletes) > 0 {
		b.params.Deletes = cloudflare.F(deletes)
	}
	if len(patches) > 0 {
		b.params.Patches = cloudflare.F(patches)
	}
	if len(posts) > 0 {
		b.params.Posts = cloudflare.F(posts)
	}
	return &b, nil
}

// postParam is the body that creates r.
func postParam(r records.Record) (dns.RecordBatchParamsPostUnion, error) {
	f := fieldsOf(r)
	switch r.Type {
	case records.TypeA:
		return aParam(f), nil
	case records.TypeAAAA:
		return aaaaParam(f), nil
	case records.TypeCNAME:
		return cnameParam(f), nil
	case records.TypeMX:
		return mxParam(f), nil
	case records.TypeTXT:
		return txtParam(f), nil
	}
	return nil, unsupported(r)
}

// patchParam is the body that makes record id hold r.
func patchParam(id string, r records.Record) (dns.BatchPatchUnionParam, error) {
	f := fieldsOf(r)
	switch r.Type {
	case records.TypeA:
		return dns.BatchPatchARecordParam{ID: cloudflare.F(id), ARecordParam: aParam(f)}, nil
	case records.TypeAAAA:
		return dns.BatchPatchAAAARecordParam{ID: cloudflare.F(id), AAAARecordParam: aaaaParam(f)}, nil
	case records.TypeCNAME:
		return dns.BatchPatchCNAMERecordParam{ID: cloudflare.F(id), CNAMERecordParam: cnameParam(f)}, nil
	case records.TypeMX:
		return dns.BatchPatchMXRecordParam{ID: cloudflare.F(id), MXRecordParam: mxParam(f)}, nil
	case records.TypeTXT:
		return dns.BatchPatchTXTRecordParam{ID: cloudflare.F(id), TXTRecordParam: txtParam(f)}, nil
	}
	return nil, unsupported(r)
}

func unsupported(r records.Record) error {
	return fmt.Errorf("cloudflare: %s %s: sendready publishes only A, AAAA, CNAME, MX and TXT records through Cloudflare", r.Type, r.Name)
}

// fields are the API's fields of a record: name and targets without the
// trailing dot, TXT content as quoted character-strings.
type fields struct {
	name, content string
	ttl           dns.TTL
	priority      float64
}

func fieldsOf(r records.Record) fields {
	f := fields{name: host(r.Name), content: r.Value, ttl: dns.TTL(r.TTL), priority: float64(r.Priority)}
	switch r.Type {
	case records.TypeCNAME, records.TypeMX:
		f.content = host(r.Value)
	case records.TypeTXT:
		f.content = txtContent(r.Value)
	}
	return f
}

// The mail host must not be proxied: a proxied A/AAAA (or CNAME) resolves
// to Cloudflare's addresses, which do not carry mail.

func aParam(f fields) dns.ARecordParam {
	return dns.ARecordParam{Name: cloudflare.F(f.name), Type: cloudflare.F(dns.ARecordTypeA), Content: cloudflare.F(f.content),
		TTL: cloudflare.F(f.ttl), Proxied: cloudflare.F(false)}
}

func aaaaParam(f fields) dns.AAAARecordParam {
	return dns.AAAARecordParam{Name: cloudflare.F(f.name), Type: cloudflare.F(dns.AAAARecordTypeAAAA), Content: cloudflare.F(f.content),
		TTL: cloudflare.F(f.ttl), Proxied: cloudflare.F(false)}
}

func cnameParam(f fields) dns.CNAMERecordParam {
	return dns.CNAMERecordParam{Name: cloudflare.F(f.name), Type: cloudflare.F(dns.CNAMERecordTypeCNAME), Content: cloudflare.F(f.content),
		TTL: cloudflare.F(f.ttl), Proxied: cloudflare.F(false)}
}

func mxParam(f fields) dns.MXRecordParam {
	return dns.MXRecordParam{Name: cloudflare.F(f.name), Type: cloudflare.F(dns.MXRecordTypeMX), Content: cloudflare.F(f.content),
		TTL: cloudflare.F(f.ttl), Priority: cloudflare.F(f.priority)}
}

func txtParam(f fields) dns.TXTRecordParam {
	return dns.TXTRecordParam{Name: cloudflare.F(f.name), Type: cloudflare.F(dns.TXTRecordTypeTXT), Content: cloudflare.F(f.content),
		TTL: cloudflare.F(f.ttl)}
}

// zoneID finds the id of the zone named zone (GET /zones?name=), once per
// Provider.
func (p *Provider) zoneID(ctx context.Context, zone string) (string, error) {
	p.mu.Lock()
	id, ok := p.zoneIDs[zone]
	p.mu.Unlock()
	if ok {
		return id, nil
	}
	var res *pagination.V4PagePaginationArray[zones.Zone]
	err := p.do("finding the zone "+zone, zone, func(opts ...option.RequestOption) (err error) {
		res, err = p.zones.List(ctx, zones.ZoneListParams{Name: cloudflare.F(zone)}, opts...)
		return err
	})
	if err != nil {
		return "", err
	}
	var ids []string
	for _, z := range res.Result {
		if strings.EqualFold(strings.TrimSuffix(z.Name, "."), zone) && !slices.Contains(ids, z.ID) {
			ids = append(ids, z.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("%w: the API token sees no zone named %s: check the zone name, and that the token has the Zone:Read and DNS:Edit permissions on it", ErrZone, zone)
	case 1:
	default:
		return "", fmt.Errorf("%w: the API token sees %d zones named %s (in different accounts?): use a token limited to the account that serves it, with the Zone:Read and DNS:Edit permissions", ErrZone, len(ids), zone)
	}
	p.mu.Lock()
	p.zoneIDs[zone] = ids[0]
	p.mu.Unlock()
	return ids[0], nil
}

// zoneName is a zone's name as the API spells it: no trailing dot, lower case.
func zoneName(zone string) string {
	return strings.ToLower(strings.TrimSuffix(zone, "."))
}

// fqdn adds the trailing dot.
func fqdn(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// host removes the trailing dot, as the API spells names and targets; the
// root (a null MX's ".") stays ".".
func host(name string) string {
	if name == "." {
		return name
	}
	return strings.TrimSuffix(name, ".")
}

// inZone reports whether name lies in zone or is its apex.
func inZone(name, zone string) bool {
	n := strings.ToLower(host(name))
	return n == zone || strings.HasSuffix(n, "."+zone)
}
