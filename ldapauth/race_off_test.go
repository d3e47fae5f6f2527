//go:build !race

package ldapauth_test

const (
	raceDetector = false
	raceFactor   = 1
)
