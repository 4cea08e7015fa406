package policy

// VersionInfo is one row of the public list of versions.
type VersionInfo struct {
	Number    int
	Announced string
	Effective string
	Summary   string
}
