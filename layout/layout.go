// Package layout says where Postfix and OpenDKIM keep their files on each
// supported distribution, under an optional root prefix (for scratch trees
// and chroots). Generators write these paths into config files; apply
// installs bundle files at them.
package layout

import (
	"path"
	"strings"
)

// Layout holds absolute paths, already prefixed with Root.
type Layout struct {
	Root   string // "/" or a prefix such as /var/lib/sendready-test/x
	Distro string // debian or rhel

	PostfixDir     string // /etc/postfix
	MainCF         string // /etc/postfix/main.cf
	MasterCF       string // /etc/postfix/master.cf
	SASLPasswd     string // /etc/postfix/sasl_passwd
	Transport      string // /etc/postfix/transport
	SenderCanon    string // /etc/postfix/sender_canonical
	PolicydSPF     string // the policyd-spf binary
	CAPath         string // trusted CA directory for smtp_tls_CApath
	OpenDKIMConf   string // /etc/opendkim.conf
	OpenDKIMDir    string // /etc/opendkim
	KeyTable       string
	SigningTable   string
	TrustedHosts   string
	KeysDir        string // /etc/opendkim/keys
	PidFile        string
	UserID         string // OpenDKIM's UserID value
	UMask          string
	Ed25519Dir     string // /etc/opendkim/ed25519: the second instance
	Ed25519Conf    string
	Ed25519Keys    string // KeyTable of the second instance
	Ed25519Signing string // SigningTable of the second instance
	Ed25519PidFile string
	SASLDBFile     string // Cyrus sasldb for upstream SASL (inside the Postfix chroot on Debian)
	SMTPDConfDir   string // Cyrus SASL application config dir for Postfix smtpd
	BackupDir      string // /var/backups/sendready
}

// For returns the layout of distro under root ("" or "/" for the real system).
func For(distro, root string) Layout {
	if root == "" {
		root = "/"
	}
	p := func(s string) string { return Join(root, s) }
	l := Layout{
		Root:           root,
		Distro:         distro,
		PostfixDir:     p("/etc/postfix"),
		MainCF:         p("/etc/postfix/main.cf"),
		MasterCF:       p("/etc/postfix/master.cf"),
		SASLPasswd:     p("/etc/postfix/sasl_passwd"),
		Transport:      p("/etc/postfix/transport"),
		SenderCanon:    p("/etc/postfix/sender_canonical"),
		OpenDKIMConf:   p("/etc/opendkim.conf"),
		OpenDKIMDir:    p("/etc/opendkim"),
		KeyTable:       p("/etc/opendkim/KeyTable"),
		SigningTable:   p("/etc/opendkim/SigningTable"),
		TrustedHosts:   p("/etc/opendkim/TrustedHosts"),
		KeysDir:        p("/etc/opendkim/keys"),
		PidFile:        p("/run/opendkim/opendkim.pid"),
		UMask:          "007",
		Ed25519Dir:     p("/etc/opendkim/ed25519"),
		Ed25519Conf:    p("/etc/opendkim/ed25519/opendkim.conf"),
		Ed25519Keys:    p("/etc/opendkim/ed25519/KeyTable"),
		Ed25519Signing: p("/etc/opendkim/ed25519/SigningTable"),
		Ed25519PidFile: p("/run/opendkim/opendkim-ed25519.pid"),
		BackupDir:      p("/var/backups/sendready"),
	}
	switch distro {
	case "rhel":
		l.PolicydSPF = "/usr/libexec/postfix/policyd-spf"
		l.CAPath = p("/etc/pki/tls/certs")
		l.UserID = "opendkim:opendkim"
		l.SASLDBFile = p("/etc/sasl2/sasldb2")
		l.SMTPDConfDir = p("/etc/sasl2")
	default:
		l.PolicydSPF = "/usr/bin/policyd-spf"
		l.CAPath = p("/etc/ssl/certs")
		l.UserID = "opendkim"
		// Debian's smtpd runs chrooted in /var/spool/postfix: the sasldb
		// must live inside the chroot, and the SASL config dir is
		// /etc/postfix/sasl.
		l.SASLDBFile = p("/var/spool/postfix/etc/sasldb2")
		l.SMTPDConfDir = p("/etc/postfix/sasl")
	}
	return l
}

// KeyFile is the private key path of a selector.
func (l Layout) KeyFile(domain, selector string) string {
	return path.Join(l.KeysDir, domain, selector+".private")
}

// Join puts an absolute system path under root.
func Join(root, abs string) string {
	if root == "" || root == "/" {
		return path.Clean(abs)
	}
	return path.Join(root, strings.TrimPrefix(abs, "/"))
}
