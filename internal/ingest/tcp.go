package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/rtsp"
)

// sessionTCP runs one connection over RTSP with TCP-interleaved RTP, the
// default transport: gwanje's own RTSP client (internal/rtsp) sets the
// session up, then a poller reads the socket and this camera's packets go
// through the pipeline to the sink on the poller's goroutine
// (docs/design/ingest.md, "Supervisor"). It reports whether any frame was handed
// over, and why the connection ended.
func (s *Supervisor) sessionTCP(ctx context.Context) (recorded bool, err error) {
	const op = "ingest.connect"
	u, err := s.cameraURL()
	if err != nil {
		return false, err
	}
	c, err := rtsp.Dial(ctx, u, s.cam.ReadTimeout, nil)
	if err != nil {
		return false, errs.E(op, errs.Unavailable, err)
	}
	defer c.Close()
	desc, err := c.Describe(ctx)
	if err != nil {
		kind := errs.Unavailable
		var se *rtsp.StatusError
		if errors.As(err, &se) && se.Code == base.StatusUnauthorized {
			kind = errs.Unauthorized
		}
		return false, errs.E(op, kind, err)
	}
	medi, _, track, err := pickVideo(desc)
	if err != nil {
		return false, errs.E(op, err)
	}
	rtpCh, rtcpCh, err := c.SetupTCP(ctx, desc, medi)
	if err != nil {
		return false, errs.E(op, errs.Unavailable, err)
	}
	s.pmu.Lock()
	err = s.pipe.Start(track)
	s.pmu.Unlock()
	if err != nil {
		return false, errs.E(op, err)
	}
	framesBefore := s.frames()
	defer func() { recorded = s.endConnection(framesBefore) }()

	// now is the arrival time of the bytes being fed: one clock reading
	// per read, not per packet.
	var (
		now    time.Time
		sawRTP bool // since the last read: the read timeout counts video only
	)
	dm := &rtsp.Demuxer{
		RTPChannel:  rtpCh,
		RTCPChannel: rtcpCh,
		OnRTP: func(pkt *rtp.Packet) {
			sawRTP = true
			if err := s.pipe.Packet(pkt, now); err != nil {
				s.noteErr(err, true)
			}
		},
		OnRTCP: func(b []byte) {
			pkts, err := rtcp.Unmarshal(b)
			if err != nil {
				return // a camera's malformed report changes nothing recorded
			}
			for _, p := range pkts {
				if sr, ok := p.(*rtcp.SenderReport); ok {
					s.pipe.SenderReport(sr, now)
				}
			}
		},
		OnRequest: func(req *base.Request) { _ = c.Respond(req) },
		OnBadPacket: func(err error) {
			s.noteErr(errs.E("ingest.Pipeline.Packet", errs.Invalid, err), true)
		},
	}
	feed := func(b []byte) error {
		now, sawRTP = s.clk.Now(), false
		s.pmu.Lock()
		err := dm.Feed(b)
		s.snapshotLocked()
		s.pmu.Unlock()
		if sawRTP {
			s.lastPacket.Store(now.UnixNano())
		}
		return err
	}

	s.lastPacket.Store(s.clk.Now().UnixNano())
	if err := c.Play(ctx); err != nil {
		return false, errs.E(op, errs.Unavailable, err)
	}
	s.log.Info("playing", "codec", track.Codec.String(), "sdp_params", track.Params.Complete())
	if b := c.Buffered(); len(b) > 0 {
		if err := feed(b); err != nil {
			return false, errs.E(op, errs.Unavailable, err)
		}
	}
	fd, err := c.Detach()
	if err != nil {
		return false, errs.E(op, errs.Internal, err)
	}
	keepalive := c.KeepaliveInterval()
	nextKeepalive := s.clk.Now().Add(keepalive)
	// Run by the poller once a tick, so a recording camera needs no timer
	// of its own (poll.go: fewer wake-ups).
	check := func() error {
		now := s.clk.Now()
		last := time.Unix(0, s.lastPacket.Load())
		if idle := now.Sub(last); idle >= s.cam.ReadTimeout {
			return errs.Errorf(op, errs.Unavailable, "no video from the camera for %v (read timeout)", idle.Round(time.Millisecond))
		}
		if !now.Before(nextKeepalive) {
			if err := c.Keepalive(); err != nil {
				return errs.E(op, errs.Unavailable, fmt.Errorf("keepalive: %w", err))
			}
			nextKeepalive = now.Add(keepalive)
		}
		return nil
	}
	m := newPollMember(fd, feed, check)
	pollers.add(m)
	defer m.stop()

	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case err := <-m.done:
		var e *errs.Error
		if errors.As(err, &e) {
			return false, err // the check's own
		}
		return false, errs.E(op, errs.Unavailable, fmt.Errorf("reading from the camera: %w", err))
	}
}
