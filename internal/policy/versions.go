package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/registry"
)

// VersionFormat is the format number of a stored version file.
const VersionFormat = 1

// Version is one published 운영·관리 방침. It is written once and never
// changed: the rendered Document, the registry it came from and the facts
// and snapshot it promised are kept so /policy/versions shows exactly what
// the public saw and Drift can compare against it.
type Version struct {
	Format          int       `json:"format"`
	Number          int       `json:"number"`
	Announced       string    `json:"announced"` // YYYY-MM-DD, 공고일자
	Effective       string    `json:"effective"` // YYYY-MM-DD, 시행일자
	EffectiveAt     time.Time `json:"effective_at"`
	ImmediateReason string    `json:"immediate_reason,omitempty"`
	Summary         string    `json:"summary,omitempty"`
	PublishedAt     time.Time `json:"published_at"`
	// Adopted marks a version that was in force before the institution
	// used gwanje, brought in with its own past dates (Store.Adopt).
	Adopted  bool     `json:"adopted,omitempty"`
	Facts    Facts    `json:"facts"`
	Snapshot Snapshot `json:"snapshot"`
	Registry string   `json:"registry"` // the registry YAML at publication
	Document Document `json:"document"`
	// DocumentEn is the English policy, when the registry has an
	// english: table (BuildEnglish); nil otherwise.
	DocumentEn *Document `json:"document_en,omitempty"`
}

// VersionInfo is one row of the public list of versions.
type VersionInfo struct {
	Number    int
	Announced string
	Effective string
	Summary   string
	Adopted   bool
}

// Store keeps published versions as immutable files NNNNNN.json in a
// directory, each written to a temporary file, fsynced, hard-linked to its
// final name (which fails if the name exists) and the directory fsynced.
type Store struct {
	dir   string
	clock clock.Clock
	// NoticeDays is the least number of days between announcement and
	// effect that the system enforces, whatever the registry promises; a
	// shorter notice needs the revision's immediate_reason.
	NoticeDays int

	// Ledger, when set, receives one 관리대장 row per published or adopted
	// version: who, which version and dates, and what changed.
	Ledger ledger.Appender

	mu    sync.Mutex
	cache map[int]*Version
}

// OpenStore opens (creating if needed) the version directory.
func OpenStore(dir string, c clock.Clock) (*Store, error) {
	const op = "policy.OpenStore"
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return &Store{dir: dir, clock: c, NoticeDays: 7, cache: map[int]*Version{}}, nil
}

func versionName(n int) string { return fmt.Sprintf("%06d.json", n) }

// Versions lists every published version, oldest first.
func (s *Store) Versions() ([]*Version, error) {
	const op = "policy.Store.Versions"
	s.mu.Lock()
	defer s.mu.Unlock()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	var out []*Version
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(name, ".json"))
		if err != nil || versionName(n) != name {
			continue
		}
		v, err := s.read(n)
		if err != nil {
			return nil, errs.E(op, err)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	for i, v := range out {
		if v.Number != i+1 {
			return nil, errs.Errorf(op, errs.Corrupt, "version %d is missing from %s", i+1, s.dir)
		}
	}
	return out, nil
}

// read loads version n; called with s.mu held. Versions never change, so
// they are cached once read.
func (s *Store) read(n int) (*Version, error) {
	if v, ok := s.cache[n]; ok {
		return v, nil
	}
	data, err := os.ReadFile(filepath.Join(s.dir, versionName(n)))
	if os.IsNotExist(err) {
		return nil, errs.Errorf("policy.Store.read", errs.NotExist, "version %d does not exist", n)
	} else if err != nil {
		return nil, errs.E("policy.Store.read", errs.IO, err)
	}
	v := &Version{}
	if err := json.Unmarshal(data, v); err != nil || v.Number != n || v.Format != VersionFormat {
		return nil, errs.Errorf("policy.Store.read", errs.Corrupt, "version file %s is not a version %d of format %d (%v)", versionName(n), n, VersionFormat, err)
	}
	s.cache[n] = v
	return v, nil
}

// Version returns version n.
func (s *Store) Version(n int) (*Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read(n)
}

// Current is the version in effect now on the store's clock: the newest
// whose effective date has begun. Pending is the newest announced version
// not yet in effect, if any.
func (s *Store) Current() (current, pending *Version, err error) {
	vs, err := s.Versions()
	if err != nil {
		return nil, nil, err
	}
	now := s.clock.Now()
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].EffectiveAt.After(now) {
			if pending == nil {
				pending = vs[i]
			}
			continue
		}
		return vs[i], pending, nil
	}
	return nil, pending, errs.E("policy.Store.Current", errs.NotExist, "no policy version is in effect yet")
}

// Publish renders the registry with facts and stores it as the next
// version, taking the announcement and effective dates from the last entry
// of the registry's policy.history (an absent announcement date means
// today). The effective date must leave the notice period — the larger of
// the registry's notice_days and s.NoticeDays — after the announcement,
// unless the revision records an immediate_reason; it must follow the
// previous version's; and the announcement cannot be back-dated (a policy
// already in force comes in with Adopt).
func (s *Store) Publish(r *registry.Registry, f Facts) (*Version, error) {
	return s.PublishAs(context.Background(), r, f, "")
}

// PublishAs is Publish recording actor in the 관리대장 row.
func (s *Store) PublishAs(ctx context.Context, r *registry.Registry, f Facts, actor string) (*Version, error) {
	return s.publish(ctx, "policy.Store.Publish", r, f, false, actor)
}

// Adopt brings in a version that was in force before the institution used
// gwanje, with its own past dates: the last entry of the registry's
// policy.history, announced on or before today. Several past versions may
// be adopted, oldest first, each a registry describing that version; once a
// version has been published with Publish, Adopt is refused, so past dates
// can enter the history only at adoption. The notice rule checked is the
// registry's own (the past is what it was), not s.NoticeDays.
func (s *Store) Adopt(r *registry.Registry, f Facts) (*Version, error) {
	return s.AdoptAs(context.Background(), r, f, "")
}

// AdoptAs is Adopt recording actor in the 관리대장 row.
func (s *Store) AdoptAs(ctx context.Context, r *registry.Registry, f Facts, actor string) (*Version, error) {
	return s.publish(ctx, "policy.Store.Adopt", r, f, true, actor)
}

func (s *Store) publish(ctx context.Context, op string, r *registry.Registry, f Facts, adopt bool, actor string) (*Version, error) {
	if err := r.Validate(); err != nil {
		return nil, errs.E(op, err)
	}
	if u := Unbacked(r, f); len(u) > 0 {
		return nil, errs.E(op, errs.Invalid, errs.Code("policy.unbacked"), errs.Params{"measure": strings.Join(u, ", ")},
			fmt.Errorf("the registry asks the policy to state %s, which the running configuration does not enforce", strings.Join(u, ", ")))
	}
	loc := r.Location()
	now := s.clock.Now()
	today := registry.DateOf(now.In(loc))
	rev := r.Policy.Current()
	announced := rev.Announced
	if announced.IsZero() && adopt {
		announced = rev.Effective
	}
	if announced.IsZero() {
		announced = today
	}
	switch {
	case adopt && today.Before(announced):
		return nil, errs.E(op, errs.Invalid, errs.Code("policy.adopt_future"), errs.Params{"announced": announced.String(), "today": today.String()},
			fmt.Errorf("the adopted version's announcement %s is after today (%s): publish a new revision with publish", announced, today))
	case !adopt && announced.Before(today):
		return nil, errs.E(op, errs.Invalid, errs.Code("policy.past_announcement"), errs.Params{"announced": announced.String(), "today": today.String()},
			fmt.Errorf("announcement date %s is in the past (today is %s): a version is announced when it is published; a policy already in force is brought in with gwanje policy adopt", announced, today))
	}
	notice := r.Policy.Notice()
	if !adopt {
		notice = max(s.NoticeDays, notice)
	}
	if earliest := announced.AddDays(notice); rev.Effective.Before(earliest) && strings.TrimSpace(rev.ImmediateReason) == "" {
		return nil, errs.E(op, errs.Invalid, errs.Code("policy.notice"),
			errs.Params{"effective": rev.Effective.String(), "announced": announced.String(), "days": strconv.Itoa(notice), "earliest": earliest.String()},
			fmt.Errorf("%s: effective date %s is inside the %d-day notice period after the announcement %s (earliest %s); an immediate change needs immediate_reason",
				revPath(r), rev.Effective, notice, announced, earliest))
	}
	yml, err := r.Marshal()
	if err != nil {
		return nil, errs.E(op, err)
	}
	vs, err := s.Versions()
	if err != nil {
		return nil, errs.E(op, err)
	}
	doc := Build(r, f, Options{})
	var docEn *Document
	if len(r.English) > 0 {
		en, err := BuildEnglish(r, f, Options{})
		if err != nil {
			return nil, errs.E(op, err)
		}
		docEn = &en
	}
	v := &Version{
		Format: VersionFormat, Number: len(vs) + 1,
		Announced: announced.String(), Effective: rev.Effective.String(), EffectiveAt: rev.Effective.Start(loc),
		ImmediateReason: rev.ImmediateReason, Summary: rev.Summary, PublishedAt: now, Adopted: adopt,
		Facts: f, Snapshot: SnapshotOf(r), Registry: string(yml), Document: doc, DocumentEn: docEn,
	}
	if adopt {
		for _, p := range vs {
			if !p.Adopted {
				return nil, errs.E(op, errs.Conflict, errs.Code("policy.adopt_after_publish"),
					fmt.Errorf("version %d was published with gwanje: past dates are accepted only when adopting, before the first publication", p.Number))
			}
		}
	}
	var prev *Version
	if len(vs) > 0 {
		prev = vs[len(vs)-1]
		if !prev.EffectiveAt.Before(v.EffectiveAt) {
			return nil, errs.E(op, errs.Conflict, errs.Code("policy.order"), errs.Params{"effective": v.Effective},
				fmt.Errorf("%s: effective date %s is not after version %d's %s: add a new revision to policy.history", revPath(r), v.Effective, prev.Number, prev.Effective))
		}
		if prev.Document.Markdown() == doc.Markdown() {
			return nil, errs.E(op, errs.Exist, errs.Code("policy.unchanged"), fmt.Errorf("the policy is unchanged since version %d", prev.Number))
		}
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	if err := writeOnce(s.dir, versionName(v.Number), data); err != nil {
		return nil, errs.E(op, err)
	}
	s.mu.Lock()
	s.cache[v.Number] = v
	s.mu.Unlock()
	if err := s.record(ctx, v, prev, actor); err != nil {
		return v, errs.E(op, err)
	}
	return v, nil
}

// revPath is the registry key path of the revision being published.
func revPath(r *registry.Registry) string {
	return fmt.Sprintf("policy.history[%d].effective", len(r.Policy.History)-1)
}

// record appends the 관리대장 row of a new version: the version, its dates
// and summary, a hash of its text, and each promise that changed since the
// previous version as Drift names it.
func (s *Store) record(ctx context.Context, v, prev *Version, actor string) error {
	if s.Ledger == nil {
		return nil
	}
	sum := sha256.Sum256([]byte(v.Document.Markdown()))
	detail := fmt.Sprintf("announced %s, effective %s", v.Announced, v.Effective)
	if v.Summary != "" {
		detail += "; " + v.Summary
	}
	if v.ImmediateReason != "" {
		detail += "; immediate: " + v.ImmediateReason
	}
	if prev != nil {
		if ch := Changes(prev.Snapshot, v.Snapshot); len(ch) > 0 {
			detail += fmt.Sprintf("; changed since version %d: %s", prev.Number, strings.Join(ch, "; "))
		}
	}
	purpose := "운영·관리 방침 게시"
	if v.Adopted {
		purpose = "운영·관리 방침 도입 (gwanje 도입 전 시행본)"
	}
	_, err := s.Ledger.Append(ctx, ledger.Entry{Kind: ledger.RegistryChange, Actor: actor,
		Object: fmt.Sprintf("policy version %d sha256=%s", v.Number, hex.EncodeToString(sum[:])), Purpose: purpose, Detail: detail})
	if err != nil {
		return errs.Errorf("policy.Store.record", errs.KindOf(err), "version %d was published but its 관리대장 row could not be written: %w", v.Number, err)
	}
	return nil
}

// writeOnce durably creates dir/name with data, failing with errs.Exist if
// the name is taken: temp → write → fsync → close → link → fsync dir.
func writeOnce(dir, name string, data []byte) error {
	const op = "policy.writeOnce"
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return errs.E(op, errs.IO, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return errs.E(op, errs.IO, err)
	}
	if err := tmp.Close(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	if err := os.Chmod(tmp.Name(), 0o440); err != nil {
		return errs.E(op, errs.IO, err)
	}
	if err := os.Link(tmp.Name(), filepath.Join(dir, name)); err != nil {
		if os.IsExist(err) {
			return errs.Errorf(op, errs.Exist, "%s already exists: published versions are never overwritten", name)
		}
		return errs.E(op, errs.IO, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}
