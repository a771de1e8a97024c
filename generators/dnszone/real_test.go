package dnszone

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/records"
)

// TestRealDaemons checks every generated zone with named-checkzone, serves
// them all from a real knotd, and asks it for every record records.json
// lists: the answers must be exactly those records.
func TestRealDaemons(t *testing.T) {
	testdaemons.Require(t, "named-checkzone", "knotd")
	for name, a := range cases(t) {
		t.Run(name, func(t *testing.T) {
			files, err := Files(input(t, a))
			if err != nil {
				t.Fatal(err)
			}
			zones := map[string]string{}
			var want []records.Record
			for _, f := range files {
				if origin, ok := strings.CutSuffix(strings.TrimPrefix(f.Path, "dns/"), ".zone"); ok {
					testdaemons.CheckZone(t, origin, string(f.Data))
					zones[origin] = string(f.Data)
				}
				if f.Path == "dns/records.json" {
					if err := json.Unmarshal(f.Data, &want); err != nil {
						t.Fatal(err)
					}
				}
			}
			if len(want) == 0 {
				t.Fatal("records.json is empty")
			}
			knot := testdaemons.StartKnot(t, zones)

			// Group the expected records by name and type: one query each.
			type key struct{ name, typ string }
			groups := map[key][]records.Record{}
			var order []key
			for _, r := range want {
				k := key{r.Name, r.Type}
				if _, ok := groups[k]; !ok {
					order = append(order, k)
				}
				groups[k] = append(groups[k], r)
			}
			kinds := map[string]bool{}
			c := &dns.Client{Net: "tcp", Timeout: 3 * time.Second}
			for _, k := range order {
				m := new(dns.Msg)
				m.SetQuestion(k.name, dns.StringToType[k.typ])
				resp, _, err := c.Exchange(m, knot.Addr)
				if err != nil {
					t.Fatalf("%s %s: %v", k.name, k.typ, err)
				}
				if resp.Rcode != dns.RcodeSuccess || !resp.Authoritative {
					t.Errorf("%s %s: rcode %s, authoritative %v", k.name, k.typ, dns.RcodeToString[resp.Rcode], resp.Authoritative)
				}
				var got []records.Record
				for _, rr := range resp.Answer {
					r := records.FromRR(rr)
					r.Zone = groups[k][0].Zone
					got = append(got, r)
				}
				wantGroup := slices.Clone(groups[k])
				sortRecords(got)
				sortRecords(wantGroup)
				if !reflect.DeepEqual(got, wantGroup) {
					t.Errorf("%s %s: knotd answers\n%#v\nrecords.json says\n%#v", k.name, k.typ, got, wantGroup)
				}
				kinds[kind(k.name, k.typ)] = true
			}
			for _, must := range []string{"MX", "SPF", "DKIM", "DMARC"} {
				if !kinds[must] {
					t.Errorf("no %s record was queried", must)
				}
			}
		})
	}
}

// kind names what a record is for.
func kind(name, typ string) string {
	switch {
	case typ == records.TypeTXT && strings.Contains(name, "._domainkey."):
		return "DKIM"
	case typ == records.TypeTXT && strings.HasPrefix(name, "_dmarc."):
		return "DMARC"
	case typ == records.TypeTXT:
		return "SPF"
	}
	return typ
}

func sortRecords(rs []records.Record) {
	slices.SortFunc(rs, func(a, b records.Record) int {
		return strings.Compare(a.Value, b.Value)
	})
}
