//go:build race

package ldapauth_test

// raceDetector is true when the tests run with -race, which slows
// everything several times: budgets grow and timing tests skip.
const raceDetector = true
