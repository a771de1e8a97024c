package testdaemons

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// StartSMTPSink runs Postfix's smtp-sink on a free loopback port, writing
// each message received to a file in dir, and returns its address.
//
// Each file holds smtp-sink's own X-Client-Addr, X-Client-Proto,
// X-Helo-Args, X-Mail-Args, X-Rcpt-Args and Received headers, then the
// message as received, then an empty line; it is named
// YYYYmmddHHMMSS.<random hex>. Read them with WaitMessages.
//
// smtp-sink must drop root privileges (to nobody), and nobody cannot
// traverse the 0700 directories made by Dir; so dir is chowned to nobody
// and smtp-sink chroots into it (-R) before switching user, writing
// "/%Y%m%d%H%M%S." relative to that root.
func StartSMTPSink(t testing.TB, dir string) string {
	t.Helper()
	bin := mustBin(t, "smtp-sink")
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	if err := os.Chown(dir, uid, -1); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	p := startProc(t, bin, "-u", "nobody", "-R", dir, "-d", "/%Y%m%d%H%M%S.", addr, "100")
	p.stopAtCleanup(t)
	waitTCP(t, p, addr, 10*time.Second)
	return addr
}

// WaitMessages waits until the smtp-sink writing to dir has captured at
// least n complete messages and returns them all, oldest first, failing
// the test after timeout.
//
// A file counts as complete when it ends with the empty line smtp-sink
// writes after the message and its size did not change between two looks
// 50 ms apart.
func WaitMessages(t testing.TB, dir string, n int, timeout time.Duration) [][]byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	sizes := map[string]int64{}
	for {
		msgs, err := readMessages(dir, sizes)
		if err != nil {
			t.Fatalf("testdaemons: reading captured messages: %v", err)
		}
		if msgs != nil && len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("testdaemons: %d message(s) captured in %s after %s, want %d", len(sizes), dir, timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readMessages returns the files in dir when all are complete, else nil.
// sizes remembers each file's size from the previous look.
func readMessages(dir string, sizes map[string]int64) ([][]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type file struct {
		name string
		mod  time.Time
		data []byte
	}
	var files []file
	complete := true
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		prev, seen := sizes[e.Name()]
		sizes[e.Name()] = fi.Size()
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if !seen || prev != fi.Size() || int64(len(b)) != fi.Size() || !bytes.HasSuffix(b, []byte("\n\n")) {
			complete = false
		}
		files = append(files, file{e.Name(), fi.ModTime(), b})
	}
	if !complete {
		return nil, nil
	}
	sort.Slice(files, func(i, j int) bool {
		if !files[i].mod.Equal(files[j].mod) {
			return files[i].mod.Before(files[j].mod)
		}
		return files[i].name < files[j].name
	})
	out := make([][]byte, len(files))
	for i, f := range files {
		out[i] = f.data
	}
	return out, nil
}
