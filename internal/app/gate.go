package app

import (
	"context"
	"fmt"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/media"
)

// rooms are the viewing-room networks of the configuration, every site
// named checked against the registry.
func (a *App) rooms() (access.Rooms, error) {
	all, sites := a.cfg.ViewingRoomNetworks()
	for site := range sites {
		if a.reg == nil {
			return access.Rooms{}, fmt.Errorf("%s: a site's viewing room needs a registry naming the site", a.cfg.Where("access.viewing_rooms.sites."+site))
		}
		if _, ok := a.reg.Site(site); !ok {
			return access.Rooms{}, fmt.Errorf("%s: the registry has no site %q", a.cfg.Where("access.viewing_rooms.sites."+site), site)
		}
	}
	return access.Rooms{Networks: all, Sites: sites}, nil
}

// startGate builds the footage gate on the access service, with the
// configured viewing rooms and the segment store and recorder as its index.
func (a *App) startGate() error {
	rooms, err := a.rooms()
	if err != nil {
		return err
	}
	if !rooms.Configured() && a.reg != nil && a.reg.Safety.RestrictedViewingRoom {
		a.log.Warn("the registry declares a restricted viewing room, but access.viewing_rooms is not configured: " +
			"gwanje does not restrict where footage is viewed, and the policy does not promise it")
	}
	a.gate = access.NewGate(a.access, access.GateConfig{Rooms: rooms, Footage: footageIndex{a}})
	a.onClose(a.gate.Close)
	return nil
}

// footageIndex tells the gate whether there is footage to view.
type footageIndex struct{ a *App }

func (x footageIndex) HasFootage(ctx context.Context, camera string, from, to time.Time) (bool, error) {
	segs, err := x.a.store.Segments(ctx, camera, media.Time90k(from), media.Time90k(to))
	return len(segs) > 0, err
}

func (x footageIndex) Recording(camera string) bool {
	if x.a.rec == nil {
		return false
	}
	_, ok := x.a.rec.Supervisor(camera)
	return ok
}
