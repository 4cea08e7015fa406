package app

import (
	"fmt"
	"time"

	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/registry"
)

// institutionZone is the one time zone every page, report and export
// prints in (docs/design/decisions.md): the registry's
// organization.timezone, the institution's own record that its policy is
// dated in. The configuration's time_zone serves a gwanje without a
// registry; when both name a zone they must agree, so that no two parts
// of gwanje can print the same moment in different zones.
func institutionZone(cfg *config.Config, reg *registry.Registry) (*time.Location, error) {
	if reg == nil {
		return cfg.Location(), nil
	}
	loc := reg.Location()
	if cfg.TimeZone != "" && cfg.TimeZone != loc.String() {
		return nil, fmt.Errorf("time_zone %q in the configuration differs from the registry's organization.timezone %q: "+
			"the institution has one time zone; set it in the registry and remove time_zone (or make them equal)",
			cfg.TimeZone, loc.String())
	}
	return loc, nil
}
