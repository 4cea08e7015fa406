package app

import (
	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/web"
)

// PrivacyZones implements web.ZoneCameras: the camera's privacy zones
// from the registry, masked in live view and playback for roles that must
// not see them (docs/design/masking.md).
func (c appCameras) PrivacyZones(id string) []mask.Zone {
	if c.a.reg == nil {
		return nil
	}
	_, _, cam, ok := c.a.reg.Camera(id)
	if !ok {
		return nil
	}
	var zones []mask.Zone
	for _, z := range cam.PrivacyZones {
		zones = append(zones, mask.NewZone(z.Name, z.Points))
	}
	return zones
}

var _ web.ZoneCameras = appCameras{}
