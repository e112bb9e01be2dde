//go:build race

package main

// raceEnabled is set when the tests run under the race detector, which slows
// them five to ten times: the large-catalog test then uses a smaller catalog.
const raceEnabled = true
