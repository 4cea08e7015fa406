package ingest

import (
	"net/url"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Transport is the RTP transport asked of the camera.
type Transport string

const (
	TCP Transport = "tcp" // RTP interleaved in the RTSP connection (the default)
	UDP Transport = "udp" // RTP over separate UDP ports
)

// Defaults used when a Camera field is zero.
const (
	DefaultReadTimeout   = 10 * time.Second
	DefaultMaxAccessUnit = 8 << 20
	DefaultBackoffMin    = 1 * time.Second
	DefaultBackoffMax    = 60 * time.Second
	DefaultReanchor      = 10 * time.Second
	DefaultQueueFrames   = 250 // ten seconds at 25 fps
)

// Camera is the configuration of one camera. The caller fills it; zero
// fields take the defaults above. Username and Password are never logged,
// and every URL in a log line or error is redacted.
type Camera struct {
	ID       string
	URL      string // rtsp://host[:port]/path; userinfo here is used if Username is empty
	Username string
	Password string
	// Transport is TCP (default) or UDP.
	Transport Transport
	// ReadTimeout is how long the camera may send no video before ingest
	// gives up on the connection and reconnects.
	ReadTimeout time.Duration
	// MaxAccessUnit bounds the bytes of one access unit; a larger one is
	// discarded with an error so memory stays bounded.
	MaxAccessUnit int
	// BackoffMin and BackoffMax bound the reconnection delay, which doubles
	// on every failed attempt (with full jitter).
	BackoffMin, BackoffMax time.Duration
	// Reanchor is how far Wall may fall behind the server clock, at every
	// frame for a whole lag window (10 s), before ingest re-anchors a run
	// (with a Break) at the next key frame. A recorder briefly starved of
	// CPU reads frames late without moving them (docs/design/ingest.md).
	Reanchor time.Duration
	// QueueFrames is how many frames may wait for a slow Sink before ingest
	// drops frames (with a Break) and reports the overrun.
	QueueFrames int
}

func (c Camera) withDefaults() Camera {
	if c.Transport == "" {
		c.Transport = TCP
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.MaxAccessUnit <= 0 {
		c.MaxAccessUnit = DefaultMaxAccessUnit
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = DefaultBackoffMin
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = c.BackoffMin
	}
	if c.Reanchor <= 0 {
		c.Reanchor = DefaultReanchor
	}
	if c.QueueFrames <= 0 {
		c.QueueFrames = DefaultQueueFrames
	}
	return c
}

// Validate reports the first problem with c, naming the camera and field.
// Error text never contains the password.
func (c Camera) Validate() error {
	const op = "ingest.Camera.Validate"
	if c.ID == "" {
		return errs.E(op, errs.Invalid, "camera id is empty")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return errs.Errorf(op, errs.Invalid, "camera %q: url is not a valid URL", c.ID)
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return errs.Errorf(op, errs.Invalid, "camera %q: url %s: scheme must be rtsp or rtsps", c.ID, u.Redacted())
	}
	if u.Host == "" {
		return errs.Errorf(op, errs.Invalid, "camera %q: url %s: no host", c.ID, u.Redacted())
	}
	if c.Transport != "" && c.Transport != TCP && c.Transport != UDP {
		return errs.Errorf(op, errs.Invalid, "camera %q: transport %q: must be tcp or udp", c.ID, c.Transport)
	}
	if c.MaxAccessUnit < 0 || c.QueueFrames < 0 {
		return errs.Errorf(op, errs.Invalid, "camera %q: limits must not be negative", c.ID)
	}
	if c.BackoffMin > 0 && c.BackoffMax > 0 && c.BackoffMax < c.BackoffMin {
		return errs.Errorf(op, errs.Invalid, "camera %q: backoff max %v is less than min %v", c.ID, c.BackoffMax, c.BackoffMin)
	}
	return nil
}

// redactor removes the camera's secrets from text bound for logs, errors
// and State: the password wherever it appears and the userinfo password of
// any URL.
type redactor struct{ secrets []string }

func newRedactor(c Camera) redactor {
	var r redactor
	if c.Password != "" {
		r.secrets = append(r.secrets, c.Password, url.QueryEscape(c.Password), url.PathEscape(c.Password))
	}
	if u, err := url.Parse(c.URL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			r.secrets = append(r.secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	return r
}

func (r redactor) String(s string) string {
	s = redactURLs(s)
	for _, p := range r.secrets {
		if p != "" {
			s = strings.ReplaceAll(s, p, "xxxxx")
		}
	}
	return s
}

// redactURLs replaces the password of every "scheme://user:pass@" in s.
func redactURLs(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/ \t\n\"'")
		if end < 0 {
			end = len(s)
		}
		auth := s[:end]
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			user := auth[:at]
			if c := strings.Index(user, ":"); c >= 0 {
				b.WriteString(user[:c])
				b.WriteString(":xxxxx")
			} else {
				b.WriteString(user)
			}
			b.WriteString(auth[at:])
			s = s[end:]
			continue
		}
		b.WriteString(auth)
		s = s[end:]
	}
}
