package media

// NominalDuration is the duration given to a frame that nothing times: the
// only frame of a run ended by a discontinuity (1/30 s).
const NominalDuration = Hz / 30

// LastFrameDuration is how long the last frame of a run lasts: the step
// between the run's last two frames (prevStep, 90 kHz), or NominalDuration
// for a run of one frame (prevStep 0). It is the one rule for it: the store
// ends a segment cut by a Break at the last frame's Wall plus this, and
// ingest anchors the next run no earlier than the same instant, so the two
// segments never overlap (docs/design/storage.md, invariant 8).
func LastFrameDuration(prevStep int64) int64 {
	if prevStep > 0 {
		return prevStep
	}
	return NominalDuration
}
