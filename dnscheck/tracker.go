package dnscheck

import (
	"sync"
	"time"
)

// Tracker remembers, across rounds, when something was first seen: each
// record's right value on every authoritative server (per check key) and
// each zone serial. It bounds how long resolvers may serve old data and
// secondaries may lag. It is safe for concurrent use; a nil *Tracker
// remembers nothing (every first sighting is "now").
type Tracker struct {
	mu   sync.Mutex
	seen map[string]sighting
}

type sighting struct {
	fingerprint string
	at          time.Time
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker { return &Tracker{seen: map[string]sighting{}} }

// firstSeen returns when key was first seen with fingerprint, recording
// now when it is new or its fingerprint changed.
func (t *Tracker) firstSeen(key, fingerprint string, now time.Time) time.Time {
	if t == nil {
		return now
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen == nil {
		t.seen = map[string]sighting{}
	}
	s, ok := t.seen[key]
	if !ok || s.fingerprint != fingerprint {
		s = sighting{fingerprint: fingerprint, at: now}
		t.seen[key] = s
	}
	return s.at
}

// forget drops key: its record is not right any more.
func (t *Tracker) forget(key string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.seen, key)
}
