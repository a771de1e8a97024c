// Command sendready sets up and checks a mail server's DKIM, SPF, DMARC and
// relay configuration. See README.md.
package main

import (
	"os"

	"github.com/sendready/sendready/cli"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	os.Exit(cli.Run(version, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
