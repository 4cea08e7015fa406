package alarm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
)

// Webhook configures one webhook target.
type Webhook struct {
	// URL receives a JSON POST per event (http or https).
	URL string
	// Secret, if set, signs each body: header X-Gwanje-Signature is
	// "sha256=" + hex(HMAC-SHA256(secret, body)). It is never logged.
	Secret string
}

// Webhook defaults.
const (
	DefaultQueue      = 256
	DefaultAttempts   = 8
	DefaultBackoffMin = time.Second
	DefaultBackoffMax = 5 * time.Minute
	DefaultTimeout    = 10 * time.Second
)

// WebhookOptions tune a Webhooks sender; zero fields take the defaults.
type WebhookOptions struct {
	Client *http.Client
	Clock  clock.Clock
	Logger *slog.Logger
	// Queue bounds the events waiting per target; when full the oldest is
	// dropped (and counted): a dead receiver cannot grow memory.
	Queue int
	// Attempts is how many times one event is tried before it is given up.
	Attempts int
	// BackoffMin and BackoffMax bound the delay between attempts, which
	// doubles after every failure.
	BackoffMin, BackoffMax time.Duration
	// Timeout bounds one POST.
	Timeout time.Duration
}

// Payload is the JSON body of a webhook POST.
type Payload struct {
	Version int       `json:"version"` // 1
	Change  Change    `json:"change"`
	At      time.Time `json:"at"`
	Alarm   Alarm     `json:"alarm"`
}

// Webhooks sends events to webhook targets, each with its own bounded
// queue and one sending goroutine, retrying with exponential backoff.
// It is a Notifier: Notify never blocks.
type Webhooks struct {
	opt     WebhookOptions
	targets []*target
}

type target struct {
	hook    Webhook
	display string // URL without userinfo and query, for logs

	mu      sync.Mutex
	queue   []Event
	wake    chan struct{}
	sent    atomic.Uint64
	failed  atomic.Uint64 // events given up after every attempt
	dropped atomic.Uint64 // events dropped because the queue was full
}

// NewWebhooks validates the targets and returns a sender; call Run.
func NewWebhooks(hooks []Webhook, opt WebhookOptions) (*Webhooks, error) {
	const op = "alarm.NewWebhooks"
	if opt.Client == nil {
		opt.Client = &http.Client{}
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Queue <= 0 {
		opt.Queue = DefaultQueue
	}
	if opt.Attempts <= 0 {
		opt.Attempts = DefaultAttempts
	}
	if opt.BackoffMin <= 0 {
		opt.BackoffMin = DefaultBackoffMin
	}
	if opt.BackoffMax < opt.BackoffMin {
		opt.BackoffMax = max(DefaultBackoffMax, opt.BackoffMin)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	w := &Webhooks{opt: opt}
	for i, h := range hooks {
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errs.Errorf(op, errs.Invalid, "webhook %d: url must be http(s)://host/...", i+1)
		}
		d := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
		w.targets = append(w.targets, &target{hook: h, display: d.String(), wake: make(chan struct{}, 1)})
	}
	return w, nil
}

// Notify queues e for every target.
func (w *Webhooks) Notify(e Event) {
	for _, t := range w.targets {
		t.mu.Lock()
		if len(t.queue) >= w.opt.Queue {
			t.queue = t.queue[1:]
			t.dropped.Add(1)
			w.opt.Logger.Warn("webhook queue full: oldest event dropped", "webhook", t.display)
		}
		t.queue = append(t.queue, e)
		t.mu.Unlock()
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// WebhookStats are one target's counters.
type WebhookStats struct {
	URL                   string // without credentials or query
	Sent, Failed, Dropped uint64
	Queued                int
}

// Stats returns every target's counters, for metrics.
func (w *Webhooks) Stats() []WebhookStats {
	out := make([]WebhookStats, 0, len(w.targets))
	for _, t := range w.targets {
		t.mu.Lock()
		q := len(t.queue)
		t.mu.Unlock()
		out = append(out, WebhookStats{URL: t.display, Sent: t.sent.Load(), Failed: t.failed.Load(), Dropped: t.dropped.Load(), Queued: q})
	}
	return out
}

// Run sends queued events until ctx is done.
func (w *Webhooks) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range w.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx, t)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (w *Webhooks) run(ctx context.Context, t *target) {
	for {
		t.mu.Lock()
		var e Event
		ok := len(t.queue) > 0
		if ok {
			e = t.queue[0]
		}
		t.mu.Unlock()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-t.wake:
				continue
			}
		}
		w.deliver(ctx, t, e)
		if ctx.Err() != nil {
			return
		}
		t.mu.Lock()
		if len(t.queue) > 0 && t.queue[0].Alarm.ID == e.Alarm.ID && t.queue[0].Change == e.Change && t.queue[0].At.Equal(e.At) {
			t.queue = t.queue[1:]
		}
		t.mu.Unlock()
	}
}

// deliver tries e up to Attempts times with exponential backoff.
func (w *Webhooks) deliver(ctx context.Context, t *target, e Event) {
	body, err := json.Marshal(Payload{Version: 1, Change: e.Change, At: e.At, Alarm: e.Alarm})
	if err != nil {
		w.opt.Logger.Error("webhook payload", "err", err)
		return
	}
	delay := w.opt.BackoffMin
	for attempt := 1; ; attempt++ {
		err := w.post(ctx, t, body)
		if err == nil {
			t.sent.Add(1)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= w.opt.Attempts {
			t.failed.Add(1)
			w.opt.Logger.Error("webhook gave up", "webhook", t.display, "alarm", e.Alarm.ID, "attempts", attempt, "err", err)
			return
		}
		retry := w.opt.Clock.After(delay) // before the log line, so a test that sees it may advance a fake clock
		w.opt.Logger.Warn("webhook failed; retrying", "webhook", t.display, "alarm", e.Alarm.ID, "attempt", attempt, "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-retry:
		}
		delay = min(2*delay, w.opt.BackoffMax)
	}
}

func (w *Webhooks) post(ctx context.Context, t *target, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.hook.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gwanje-alarm/1")
	if t.hook.Secret != "" {
		mac := hmac.New(sha256.New, []byte(t.hook.Secret))
		mac.Write(body)
		req.Header.Set("X-Gwanje-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := w.opt.Client.Do(req)
	if err != nil {
		// The error text of net/http contains the URL; strip it to the
		// display form so credentials in it are never logged.
		return fmt.Errorf("POST %s failed", t.display)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST %s: status %d", t.display, resp.StatusCode)
	}
	return nil
}
