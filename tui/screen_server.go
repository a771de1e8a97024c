package tui

import (
	"charm.land/huh/v2"
)

// serverGroup asks for this server: host name and sending addresses.
func serverGroup(d *draft) *huh.Group {
	v4, v6 := validIPv4List, validIPv6List
	if d.base.Relay.AllowPrivate {
		v4, v6 = ipListValidator(true, true), ipListValidator(false, true)
	}
	v4help := "Public IPv4 addresses mail leaves from, comma-separated: they go into SPF, and each needs a PTR."
	if d.nat != "" {
		v4help = "No public address was found here (NAT?): type the public IPv4 address mail leaves from."
	}
	return huh.NewGroup(
		d.input("Host name", "This server's full name: its HELO name, its A record and the PTR target.", &d.Hostname, validHostname),
		d.optional("IPv4 addresses", v4help, &d.IPv4, v4),
		d.optional("IPv6 addresses", "Public IPv6 addresses, comma-separated; empty when mail leaves over IPv4 only.", &d.IPv6, v6),
	).Title("Server")
}
