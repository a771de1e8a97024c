package apply

import (
	"context"
	"io/fs"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/bundle"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/generators/opendkim"
	"github.com/sendready/sendready/generators/postfix"
	"github.com/sendready/sendready/layout"
)

// plan is everything one apply run will do, computed before anything is
// changed.
type plan struct {
	opts Options
	m    bundle.Manifest
	l    layout.Layout
	r    *runner

	// order lists every file the run touches, in the order it writes them.
	order []string
	olds  map[string]state
	// news are the wanted states of directly written files, and the
	// predicted main.cf and master.cf.
	news   map[string]state
	secret map[string]bool
	writes []string // written directly (bundle targets, /etc/default/opendkim, drop-ins)
	maps   []string // postmap'ed sources
	dbs    []string // their .db files that postmap rewrites
	dirs   []dirChange

	mainCF, masterCF         string
	mainCreate, masterCreate []byte // the distribution's template when the file is missing
	masterCmds               [][]string
	mainArgs                 []string
	mainChanged              bool
	masterChanged            bool
	restartPostfix           bool // inet_protocols changes: a reload is not enough

	confs       []string // OpenDKIM instance configurations to check
	edUnit      string   // the ed25519 instance's unit name, if any
	edUnitNew   bool
	edChanged   bool
	dkimChanged bool
	unitChanged bool
	groupCmd    []string // usermod, for a Unix socket
}

type dirChange struct {
	path     string
	old, new dirState
}

func newPlan(ctx context.Context, opts Options) (*plan, error) {
	if err := checkRoot(opts.Root); err != nil {
		return nil, err
	}
	m, err := bundle.Read(opts.Bundle)
	if err != nil {
		return nil, refused("%v", err)
	}
	if m.Root != opts.Root {
		return nil, refused("the bundle %s was generated for --root %s, not %s; generate it again with --root %s",
			opts.Bundle, m.Root, opts.Root, opts.Root)
	}
	mism, err := bundle.Verify(opts.Bundle, m)
	if err != nil {
		return nil, refused("%v", err)
	}
	var hard, edited []string
	for _, mm := range mism {
		if mm.Problem == bundle.Modified {
			edited = append(edited, mm.String())
		} else {
			hard = append(hard, mm.String())
		}
	}
	if len(hard) > 0 {
		return nil, refused("the bundle %s is incomplete:\n  %s\ngenerate it again", opts.Bundle, strings.Join(hard, "\n  "))
	}
	if len(edited) > 0 && !opts.Force {
		return nil, refused("files of the bundle %s no longer match bundle.json:\n  %s\nchange the answers and run sendready generate again, or apply the edited files with --force",
			opts.Bundle, strings.Join(edited, "\n  "))
	}
	a, err := answers.Load(filepath.Join(opts.Bundle, "answers.yaml"))
	if err != nil {
		return nil, refused("%v", err)
	}
	if a.Server.Distro == "" {
		a.Server.Distro = answers.DistroDebian
	}
	distro := m.Distro
	if distro == "" {
		distro = a.Server.Distro
	}
	p := &plan{
		opts: opts, m: m, l: layout.For(distro, opts.Root), r: &runner{run: opts.Run},
		olds: map[string]state{}, news: map[string]state{}, secret: map[string]bool{},
	}
	if err := p.checkHost(ctx); err != nil {
		return nil, err
	}
	if err := p.checkPackages(ctx, a); err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for _, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(opts.Bundle, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, refused("%v", err)
		}
		data[f.Path] = b
	}
	if b, ok := data[postfix.SASLPasswdPath]; ok && strings.Contains(string(b), generators.Placeholder) {
		return nil, refused("%s still holds the placeholder password (%s): put the relay password in (sendready generate --sasl-password-file FILE --force), then apply again",
			filepath.Join(opts.Bundle, postfix.SASLPasswdPath), generators.Placeholder)
	}
	if err := p.planFiles(data); err != nil {
		return nil, err
	}
	if err := p.planOpenDKIMSocket(ctx, data[opendkim.ConfPath]); err != nil {
		return nil, err
	}
	if err := p.planPostfix(ctx, data); err != nil {
		return nil, err
	}
	return p, nil
}

// checkHost refuses another machine's bundle unless Force.
func (p *plan) checkHost(ctx context.Context) error {
	get := p.opts.Hostname
	if get == nil {
		get = func() (string, error) {
			out, err := p.opts.Run(ctx, "hostname", "-f")
			if h := strings.TrimSpace(string(out)); err == nil && h != "" {
				return h, nil
			}
			return os.Hostname()
		}
	}
	h, err := get()
	if err != nil {
		return refused("finding this machine's host name: %v", err)
	}
	norm := func(s string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), ".")) }
	if want := p.m.Hostname; want != "" && norm(h) != norm(want) && !p.opts.Force {
		return refused("the bundle is for %s, but this machine is %s; apply it on %s, or pass --force if this machine will be %s",
			want, h, want, want)
	}
	return nil
}

// checkPackages refuses when a package the topology needs is missing, and
// says how to install them.
func (p *plan) checkPackages(ctx context.Context, a *answers.Answers) error {
	var missing []string
	for _, pkg := range postfix.Packages(a) {
		if p.l.Distro == answers.DistroRHEL {
			if _, err := p.opts.Run(ctx, "rpm", "-q", pkg); err != nil {
				missing = append(missing, pkg)
			}
			continue
		}
		out, err := p.opts.Run(ctx, "dpkg-query", "-W", "-f=${Status}", pkg)
		if err != nil || !strings.Contains(string(out), "install ok installed") {
			missing = append(missing, pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	install := "apt-get install -y " + strings.Join(missing, " ")
	if p.l.Distro == answers.DistroRHEL {
		install = "dnf install -y epel-release && dnf install -y " + strings.Join(missing, " ")
	}
	return refused("missing packages: %s; install them with: %s", strings.Join(missing, " "), install)
}

// owner is a file's wanted owner.
type owner struct{ uid, gid int }

func lookupOwner(name string) (owner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return owner{}, err
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return owner{}, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return owner{uid, gid}, nil
}

// writeRank orders the direct writes so that a run stopped between two of
// them never leaves a file pointing at one not yet written: keys, then
// tables and other files, then the OpenDKIM configurations, then units.
func writeRank(bundlePath string) int {
	switch {
	case bundle.IsPrivateKey(bundlePath):
		return 0
	case strings.HasSuffix(bundlePath, ".service"):
		return 3
	case strings.HasSuffix(bundlePath, "opendkim.conf"):
		return 2
	}
	return 1
}

// planFiles works out the bundle files to install, their directories, and
// the maps to postmap.
func (p *plan) planFiles(data map[string][]byte) error {
	files := slices.Clone(p.m.Files)
	slices.SortStableFunc(files, func(a, b bundle.ManifestFile) int { return writeRank(a.Path) - writeRank(b.Path) })
	var dkim owner
	needDKIM := false
	for _, f := range files {
		if f.Target != "" && bundle.IsPrivateKey(f.Path) {
			needDKIM = true
		}
	}
	if needDKIM {
		o, err := lookupOwner("opendkim")
		if err != nil {
			return refused("the opendkim user or group is missing (%v): install the opendkim package", err)
		}
		dkim = o
	}
	for _, f := range files {
		if f.Target == "" {
			continue
		}
		target := filepath.FromSlash(f.Target)
		old, err := readState(target)
		if err != nil {
			return refused("%v", err)
		}
		want := state{Exists: true, Data: data[f.Path], Mode: fs.FileMode(f.Mode)}
		key := bundle.IsPrivateKey(f.Path)
		if key {
			want.UID, want.GID = dkim.uid, dkim.gid
			if old.Exists && string(old.Data) != string(want.Data) {
				return refused("%s holds a different DKIM key than %s; replacing it is key rotation, not installation: choose a new selector in the answers",
					target, filepath.Join(p.opts.Bundle, f.Path))
			}
		}
		if err := p.planDirs(filepath.Dir(target), key, dkim); err != nil {
			return err
		}
		p.add(target, old, want, f.Secret || key)
		switch path.Base(f.Path) {
		case "opendkim.conf":
			p.confs = append(p.confs, target)
		}
		if !old.same(want) {
			if strings.HasPrefix(f.Path, "opendkim/") {
				p.dkimChanged = true
				if strings.HasPrefix(f.Path, "opendkim/ed25519/") || strings.HasSuffix(f.Path, "-ed.private") {
					p.edChanged = true
				}
			}
			if strings.HasSuffix(target, ".service") {
				p.unitChanged = true
			}
		}
		if strings.HasSuffix(target, ".service") {
			p.edUnit = filepath.Base(target)
			p.edUnitNew = !old.Exists
		}
		if strings.HasPrefix(f.Path, "postfix/") && slices.Contains([]string{"sasl_passwd", "transport", "sender_canonical"}, path.Base(f.Path)) {
			if err := p.planMap(target, !old.same(want)); err != nil {
				return err
			}
		}
	}
	return nil
}

// add records a direct write.
func (p *plan) add(target string, old, want state, secret bool) {
	p.olds[target] = old
	p.news[target] = want
	p.secret[target] = secret
	p.writes = append(p.writes, target)
}

// planDirs makes sure dir and its missing parents exist: 0755 root, or
// 0750 owned by opendkim for the key directories (the existing ones are
// corrected too).
func (p *plan) planDirs(dir string, keyDir bool, dkim owner) error {
	keysDir := filepath.FromSlash(p.l.KeysDir)
	var add []dirChange // deepest first
	defer func() {
		slices.Reverse(add)
		p.dirs = append(p.dirs, add...)
	}()
	for d := dir; under(p.opts.Root, d) || d == p.opts.Root; d = filepath.Dir(d) {
		if slices.ContainsFunc(p.dirs, func(c dirChange) bool { return c.path == d }) || slices.ContainsFunc(add, func(c dirChange) bool { return c.path == d }) {
			break
		}
		old, err := readDirState(d)
		if err != nil {
			return refused("%v", err)
		}
		isKey := keyDir && (d == keysDir || strings.HasPrefix(d, keysDir+string(filepath.Separator)))
		want := dirState{Exists: true, Mode: 0o755}
		if isKey {
			want = dirState{Exists: true, Mode: 0o750, UID: dkim.uid, GID: dkim.gid}
		}
		switch {
		case !old.Exists:
			add = append(add, dirChange{d, old, want})
		case isKey && old != want:
			add = append(add, dirChange{d, old, want})
		case !isKey:
			return nil // an existing directory outside the key tree is left as it is
		}
		if d == p.opts.Root {
			break
		}
	}
	return nil
}

// planMap decides whether postmap runs: the source changes, or its .db is
// missing or older than the source.
func (p *plan) planMap(src string, changed bool) error {
	db := src + ".db"
	old, err := readState(db)
	if err != nil {
		return refused("%v", err)
	}
	if !changed && old.Exists {
		si, err1 := os.Stat(src)
		di, err2 := os.Stat(db)
		if err1 == nil && err2 == nil && !di.ModTime().Before(si.ModTime()) {
			return nil
		}
	}
	p.maps = append(p.maps, src)
	p.dbs = append(p.dbs, db)
	p.olds[db] = old
	p.secret[db] = true
	return nil
}

// planOpenDKIMSocket aligns Debian's /etc/default/opendkim and systemd
// drop-ins (which beat opendkim.conf's Socket) with the bundle's socket,
// and puts postfix into the opendkim group for a Unix socket.
func (p *plan) planOpenDKIMSocket(ctx context.Context, conf []byte) error {
	socket := ""
	for _, line := range strings.Split(string(conf), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "Socket" {
			socket = f[1]
		}
	}
	if socket == "" {
		return nil
	}
	if strings.HasPrefix(socket, "local:") || strings.HasPrefix(socket, "unix:") || strings.HasPrefix(socket, "/") {
		out, err := p.opts.Run(ctx, "id", "-nG", "postfix")
		if err != nil || !slices.Contains(strings.Fields(string(out)), "opendkim") {
			p.groupCmd = []string{"usermod", "-a", "-G", "opendkim", "postfix"}
		}
	}
	if p.l.Distro != answers.DistroRHEL {
		def := filepath.FromSlash(layout.Join(p.opts.Root, "/etc/default/opendkim"))
		if err := p.alignFile(def, socket, alignDefault); err != nil {
			return err
		}
	}
	dropins, _ := filepath.Glob(filepath.FromSlash(layout.Join(p.opts.Root, "/etc/systemd/system/opendkim.service.d/*.conf")))
	for _, d := range dropins {
		if err := p.alignFile(d, socket, alignDropIn); err != nil {
			return err
		}
	}
	return nil
}

func (p *plan) alignFile(path, socket string, align func(string, string) (string, bool)) error {
	old, err := readState(path)
	if err != nil {
		return refused("%v", err)
	}
	if !old.Exists {
		return nil
	}
	text, changed := align(string(old.Data), socket)
	if !changed {
		return nil
	}
	want := old
	want.Data = []byte(text)
	p.add(path, old, want, false)
	p.dkimChanged = true
	if strings.Contains(path, "/systemd/") {
		p.unitChanged = true
	}
	return nil
}

// alignDefault points every SOCKET= line at socket (as install.sh's sed
// does).
func alignDefault(text, socket string) (string, bool) {
	lines := strings.Split(text, "\n")
	changed := false
	for i, l := range lines {
		if v, ok := strings.CutPrefix(l, "SOCKET="); ok && strings.Trim(v, `"'`) != socket {
			lines[i] = "SOCKET=" + socket
			changed = true
		}
	}
	return strings.Join(lines, "\n"), changed
}

// alignDropIn replaces the -p argument of ExecStart= lines.
func alignDropIn(text, socket string) (string, bool) {
	lines := strings.Split(text, "\n")
	changed := false
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "ExecStart=") {
			continue
		}
		f := strings.Fields(l)
		for j := 0; j+1 < len(f); j++ {
			if f[j] == "-p" && f[j+1] != socket {
				f[j+1] = socket
				lines[i] = strings.Join(f, " ")
				changed = true
			}
		}
	}
	return strings.Join(lines, "\n"), changed
}

// template returns the distribution's stock main.cf or master.cf.
func (p *plan) template(name string) ([]byte, error) {
	src := map[string]string{"main.cf": "/usr/share/postfix/main.cf.debian", "master.cf": "/usr/share/postfix/master.cf.dist"}[name]
	if p.l.Distro == answers.DistroRHEL {
		src = "/usr/share/postfix/" + name + ".proto"
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return nil, refused("%s is missing and so is the distribution's template %s (%v): reinstall postfix", name, src, err)
	}
	return b, nil
}

// planPostfix computes main.cf and master.cf as the postconf calls will
// leave them, by running the same calls on a scratch copy.
func (p *plan) planPostfix(ctx context.Context, data map[string][]byte) error {
	settings, err := parseSettings(data[postfix.MainCFPath])
	if err != nil {
		return refused("%v", err)
	}
	services, err := parseServices(data[postfix.MasterCFPath])
	if err != nil {
		return refused("%v", err)
	}
	dir := filepath.FromSlash(p.l.PostfixDir)
	p.mainCF, p.masterCF = filepath.Join(dir, "main.cf"), filepath.Join(dir, "master.cf")
	scratch, err := os.MkdirTemp("", "sendready-postconf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	for _, f := range []struct {
		path   string
		name   string
		create *[]byte
	}{{p.mainCF, "main.cf", &p.mainCreate}, {p.masterCF, "master.cf", &p.masterCreate}} {
		old, err := readState(f.path)
		if err != nil {
			return refused("%v", err)
		}
		p.olds[f.path] = old
		start := old.Data
		if !old.Exists {
			if start, err = p.template(f.name); err != nil {
				return err
			}
			*f.create = start
		}
		if err := os.WriteFile(filepath.Join(scratch, f.name), start, 0o644); err != nil {
			return err
		}
	}
	pc := func(args ...string) ([]byte, error) {
		return p.r.quiet(ctx, "postconf", append([]string{"-c", scratch}, args...)...)
	}
	// master.cf first: main.cf will point at its services.
	for _, s := range services {
		cur, err := pc("-M", s.Key())
		if err != nil {
			return refused("%v", err)
		}
		var args []string
		f := strings.Fields(string(cur))
		if len(f) >= 8 && slices.Equal(f[2:8], []string{s.Private, s.Unpriv, s.Chroot, s.Wakeup, s.Maxproc, s.Command}) &&
			slices.Equal(nonOptions(f[8:]), nonOptions(s.Args)) {
			// The entry exists: set our -o overrides, keep the admin's others.
			args = []string{"-P"}
			for _, o := range s.Overrides() {
				args = append(args, s.Key()+"/"+o[0]+"="+o[1])
			}
			if len(args) == 1 {
				continue
			}
		} else {
			args = []string{"-M", s.Key() + "=" + s.Entry()}
		}
		if _, err := pc(args...); err != nil {
			return refused("%v", err)
		}
		p.masterCmds = append(p.masterCmds, append([]string{"-c", dir}, args...))
	}
	cur, err := pc("-n")
	if err != nil {
		return refused("%v", err)
	}
	current := parsePostconfN(cur)
	ours := map[string]string{}
	for _, s := range settings {
		ours[s.Key] = s.Value
	}
	args := []string{"-c", dir, "-e"}
	for _, s := range settings {
		v := mergeValue(s.Key, current[s.Key], s.Value, ours)
		args = append(args, s.Key+" = "+v)
		if s.Key == "inet_protocols" && current[s.Key] != v {
			p.restartPostfix = true
		}
	}
	if len(settings) > 0 {
		if _, err := pc(args[2:]...); err != nil {
			return refused("%v", err)
		}
		p.mainArgs = args
	}
	for _, f := range []struct {
		path, name string
		changed    *bool
	}{{p.masterCF, "master.cf", &p.masterChanged}, {p.mainCF, "main.cf", &p.mainChanged}} {
		b, err := os.ReadFile(filepath.Join(scratch, f.name))
		if err != nil {
			return err
		}
		old := p.olds[f.path]
		want := state{Exists: true, Data: b, Mode: 0o644}
		if old.Exists {
			want.Mode, want.UID, want.GID = old.Mode, old.UID, old.GID
		}
		p.news[f.path] = want
		*f.changed = !old.same(want)
	}
	return nil
}

// nonOptions drops "-o key=value" pairs from a service's arguments.
func nonOptions(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-o" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// changedFiles lists what the run writes, in order; it fills p.order.
func (p *plan) changedFiles() []string {
	var out []string
	for _, w := range p.writes {
		if !p.olds[w].same(p.news[w]) {
			out = append(out, w)
		}
	}
	out = append(out, p.dbs...)
	if p.masterChanged {
		out = append(out, p.masterCF)
	}
	if p.mainChanged {
		out = append(out, p.mainCF)
	}
	p.order = out
	return out
}
