package apply

import (
	"strings"
	"testing"
)

func TestMergeValue(t *testing.T) {
	ours := map[string]string{"smtpd_milters": "inet:127.0.0.1:8891, inet:127.0.0.1:8892", "non_smtpd_milters": "$smtpd_milters"}
	rr := "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, check_policy_service unix:private/policyd-spf"
	tests := []struct {
		name, key, current, ours, want string
	}{
		{"unset takes ours", "smtpd_milters", "", ours["smtpd_milters"], ours["smtpd_milters"]},
		{"milters appended", "smtpd_milters", "inet:127.0.0.1:9999", ours["smtpd_milters"], "inet:127.0.0.1:9999, inet:127.0.0.1:8891, inet:127.0.0.1:8892"},
		{"milters present: unchanged", "smtpd_milters", "inet:127.0.0.1:8892,inet:127.0.0.1:8891", ours["smtpd_milters"], "inet:127.0.0.1:8892,inet:127.0.0.1:8891"},
		{"milter with settings kept whole", "smtpd_milters", "{ inet:127.0.0.1:9999, connect_timeout=10s }", "inet:127.0.0.1:8891", "{ inet:127.0.0.1:9999, connect_timeout=10s }, inet:127.0.0.1:8891"},
		{"non_smtpd refers to smtpd", "non_smtpd_milters", "$smtpd_milters, inet:127.0.0.1:7777", "$smtpd_milters", "$smtpd_milters, inet:127.0.0.1:7777"},
		{"non_smtpd own list", "non_smtpd_milters", "inet:127.0.0.1:7777", "$smtpd_milters", "inet:127.0.0.1:7777, inet:127.0.0.1:8891, inet:127.0.0.1:8892"},
		{"scalar replaced", "myhostname", "old.example.org", "mail.example.test", "mail.example.test"},
		{"restrictions: after reject_unauth_destination", "smtpd_recipient_restrictions",
			"permit_mynetworks, reject_unauth_destination, check_client_access hash:/etc/postfix/access, permit", rr,
			"permit_mynetworks, reject_unauth_destination, check_policy_service unix:private/policyd-spf, check_client_access hash:/etc/postfix/access, permit"},
		{"restrictions: no reject_unauth_destination, before permit", "smtpd_recipient_restrictions",
			"reject_non_fqdn_recipient permit", rr, "reject_non_fqdn_recipient, check_policy_service unix:private/policyd-spf, permit"},
		{"restrictions: already there", "smtpd_recipient_restrictions",
			"reject_unauth_destination check_policy_service unix:private/policyd-spf", rr, "reject_unauth_destination check_policy_service unix:private/policyd-spf"},
		{"mynetworks kept and extended", "mynetworks", "127.0.0.0/8 192.0.2.0/24", "127.0.0.0/8 [::1]/128", "127.0.0.0/8, 192.0.2.0/24, [::1]/128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeValue(tt.key, tt.current, tt.ours, ours)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if again := mergeValue(tt.key, got, tt.ours, ours); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestUnifiedDiff(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\n"
	new := "a\nb\nc\nD\ne\nf\ng\nh\ni\n"
	want := "--- a/x\n+++ b/x\n@@ -1,8 +1,9 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n+i\n"
	if got := unifiedDiff("a/x", "b/x", []byte(old), []byte(new)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := unifiedDiff("a/x", "b/x", []byte(old), []byte(old)); got != "" {
		t.Errorf("equal files: %q", got)
	}
	got := unifiedDiff("/dev/null", "b/y", nil, []byte("new\n"))
	if got != "--- /dev/null\n+++ b/y\n@@ -0,0 +1,1 @@\n+new\n" {
		t.Errorf("new file: %q", got)
	}
	long := strings.Repeat("x\n", 20)
	got = unifiedDiff("a", "b", []byte("1\n"+long+"2\n"), []byte("one\n"+long+"two\n"))
	if strings.Count(got, "@@ -") != 2 {
		t.Errorf("want two hunks:\n%s", got)
	}
}

func TestAlign(t *testing.T) {
	got, ok := alignDefault("RUNDIR=/run/opendkim\nSOCKET=\"local:$RUNDIR/opendkim.sock\"\n#SOCKET=inet:1@x\n", "inet:8891@127.0.0.1")
	if !ok || got != "RUNDIR=/run/opendkim\nSOCKET=inet:8891@127.0.0.1\n#SOCKET=inet:1@x\n" {
		t.Errorf("alignDefault: %v %q", ok, got)
	}
	if _, ok := alignDefault(got, "inet:8891@127.0.0.1"); ok {
		t.Error("alignDefault changed an aligned file")
	}
	got, ok = alignDropIn("[Service]\nExecStart=\nExecStart=/usr/sbin/opendkim -P /run/opendkim/opendkim.pid -p local:/run/x.sock\n", "inet:8891@127.0.0.1")
	if !ok || !strings.Contains(got, "-p inet:8891@127.0.0.1\n") {
		t.Errorf("alignDropIn: %v %q", ok, got)
	}
}
