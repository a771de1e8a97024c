package postfix

import (
	"strings"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
)

// Service is one master.cf entry. The string fields are the columns of
// master.cf(5) as written there ("-" means the default).
type Service struct {
	// Name is the service name: a port or service name for inet services
	// ("submission", or "127.0.0.1:2587"), or a socket/transport name.
	Name    string
	Type    string // inet, unix, fifo, pass
	Private string
	Unpriv  string
	Chroot  string
	Wakeup  string
	Maxproc string
	Command string
	// Args are the command's arguments, one argv word each: "-o",
	// "key=value" pairs for Postfix daemons, "user=x", "argv=..." for spawn.
	Args []string
	// Comment says why the service is there.
	Comment string
}

// Key is the service's postconf -M/-P key: "name/type".
func (s Service) Key() string { return s.Name + "/" + s.Type }

// Entry is the service on one line, as postconf -M name/type='...' takes it.
func (s Service) Entry() string {
	f := []string{s.Name, s.Type, s.Private, s.Unpriv, s.Chroot, s.Wakeup, s.Maxproc, s.Command}
	return strings.Join(append(f, s.Args...), " ")
}

// Block is the service as master.cf writes it: the columns on one line,
// then each "-o key=value" on its own indented continuation line, and other
// arguments together on one.
func (s Service) Block() string {
	var b strings.Builder
	b.WriteString(strings.Join([]string{s.Name, s.Type, s.Private, s.Unpriv, s.Chroot, s.Wakeup, s.Maxproc, s.Command}, " "))
	var rest []string
	for i := 0; i < len(s.Args); i++ {
		if s.Args[i] == "-o" && i+1 < len(s.Args) {
			b.WriteString("\n  -o " + s.Args[i+1])
			i++
			continue
		}
		rest = append(rest, s.Args[i])
	}
	if len(rest) > 0 {
		b.WriteString("\n  " + strings.Join(rest, " "))
	}
	return b.String()
}

// Overrides returns the service's "-o key=value" arguments as key, value
// pairs, in order (for postconf -P "name/type/key=value").
func (s Service) Overrides() [][2]string {
	var out [][2]string
	for i := 0; i+1 < len(s.Args); i++ {
		if s.Args[i] != "-o" {
			continue
		}
		k, v, _ := strings.Cut(s.Args[i+1], "=")
		out = append(out, [2]string{k, v})
		i++
	}
	return out
}

// Services returns the master.cf services the topology needs, in a stable
// order; none for a plain sending host.
func Services(in generators.Input) ([]Service, error) {
	a := in.Answers
	if err := check(a); err != nil {
		return nil, err
	}
	var out []Service
	r := a.Relay
	if r.Mode == answers.ModeSmarthost && len(r.Smarthost.Destinations) > 0 {
		out = append(out, Service{
			Name: SmarthostTransport, Type: "unix", Private: "-", Unpriv: "-", Chroot: "n", Wakeup: "-", Maxproc: "-",
			Command: "smtp",
			Args: []string{
				"-o", "syslog_name=postfix/" + SmarthostTransport,
				"-o", "smtp_tls_security_level=encrypt",
			},
			Comment: "Delivery transport for the domains in the transport map: always TLS to the smarthost, while other mail keeps opportunistic TLS. Not chrooted, so it reads the CA store and sasl_passwd in place.",
		})
	}
	if r.Upstream.SASL {
		out = append(out, Service{
			Name: SubmissionService, Type: "inet", Private: "n", Unpriv: "-", Chroot: "n", Wakeup: "-", Maxproc: "-",
			Command: "smtpd",
			Args: []string{
				"-o", "syslog_name=postfix/submission",
				"-o", "smtpd_tls_security_level=encrypt",
				"-o", "smtpd_tls_auth_only=yes",
				"-o", "smtpd_sasl_auth_enable=yes",
				"-o", "smtpd_sasl_type=cyrus",
				"-o", "smtpd_sasl_path=smtpd",
				"-o", "smtpd_sasl_local_domain=$myhostname",
				"-o", "smtpd_client_restrictions=permit_sasl_authenticated,reject",
				"-o", "smtpd_recipient_restrictions=permit_sasl_authenticated,reject",
				"-o", "smtpd_relay_restrictions=permit_sasl_authenticated,reject",
				"-o", "milter_macro_daemon_name=ORIGINATING",
			},
			Comment: "Port 587 for upstream servers that authenticate (Cyrus SASL, users in the sasldb) instead of being trusted by address; TLS is required before AUTH. Not chrooted (chroot n), so smtpd reads the sasldb and smtpd.conf in place.",
		})
	}
	if a.InboundSPFCheck() {
		user := "policyd-spf" // created by Debian's postfix-policyd-spf-python
		if in.Layout.Distro == answers.DistroRHEL {
			user = "nobody" // pypolicyd-spf creates no user of its own
		}
		out = append(out, Service{
			Name: PolicydSPFService, Type: "unix", Private: "-", Unpriv: "n", Chroot: "n", Wakeup: "-", Maxproc: "0",
			Command: "spawn",
			Args:    []string{"user=" + user, "argv=" + in.Layout.PolicydSPF},
			Comment: "The SPF policy daemon that smtpd_recipient_restrictions asks (check_policy_service unix:private/policyd-spf). Without it every inbound message is deferred.",
		})
	}
	return out, nil
}

// FormatMasterCF renders services as the master.cf.snippet file; with no
// services it is a comment only.
func FormatMasterCF(services []Service) string {
	return render("postfix/master.cf.snippet.tmpl", services)
}

// MasterCF returns the master.cf.snippet text of the topology.
func MasterCF(in generators.Input) (string, error) {
	s, err := Services(in)
	if err != nil {
		return "", err
	}
	return FormatMasterCF(s), nil
}
