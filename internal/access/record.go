package access

import (
	"context"
	"fmt"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// AckPurpose is the purpose of the ledger row of an alarm acknowledgement.
const AckPurpose = "알람 확인"

// AlarmAck is an acknowledgement of an alarm by a person on duty.
type AlarmAck struct {
	ID      uint64
	Kind    string    // the alarm's kind ("camera_down")
	Subject string    // camera id or volume
	Raised  time.Time // printed in its own location: the institution's zone
	Message string
	Note    string // the person's note (may be empty)
	// Site and Camera when the subject is a camera.
	Site, Camera string
}

// RecordAlarmAck writes the ledger row of an acknowledgement (kind
// device-check, actor the person, purpose AckPurpose) and returns once it
// is durable; the caller then acknowledges the alarm. A ledger that cannot
// be written refuses the acknowledgement (errs.Unavailable).
func (s *Service) RecordAlarmAck(ctx context.Context, p *Principal, a AlarmAck) error {
	const op = "access.RecordAlarmAck"
	if p == nil || !p.Active {
		return errs.Errorf(op, errs.Unauthorized, "not logged in")
	}
	name, role, client := actorOf(p, s.now())
	e := ledger.Entry{Kind: ledger.DeviceCheck, Actor: name, Role: role, Client: client,
		Object:  fmt.Sprintf("알람 %d: %s %s (%s)", a.ID, a.Kind, a.Subject, a.Raised.Format("2006-01-02 15:04:05 MST")),
		Purpose: AckPurpose, Detail: a.Message}
	if a.Note != "" {
		e.Detail += " — " + a.Note
	}
	if a.Camera != "" {
		e.Site, e.Cameras = a.Site, []string{a.Camera}
	}
	if err := s.record(ctx, e); err != nil {
		return errs.E(op, err)
	}
	return nil
}
