//go:build race

package ldapauth_test

// raceDetector is true when the tests run with -race, which slows
// everything several times: budgets grow by raceFactor and timing tests skip.
const (
	raceDetector = true
	raceFactor   = 4
)
