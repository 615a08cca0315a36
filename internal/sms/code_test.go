package sms

import (
	"math"
	"testing"
)

func TestNewCodeFormat(t *testing.T) {
	for range 1000 {
		c := NewCode()
		if len(c) != 6 {
			t.Fatalf("code %q does not have 6 characters", c)
		}
		for _, r := range c {
			if r < '0' || r > '9' {
				t.Fatalf("code %q has a non-digit", c)
			}
		}
	}
}

// TestNewCodeUniform draws many codes and checks that each digit position is spread
// evenly, with a chi-squared test loose enough never to fail by chance in practice
// (p < 1e-6 for 9 degrees of freedom is about 48).
func TestNewCodeUniform(t *testing.T) {
	const n = 60_000
	var counts [6][10]int
	for range n {
		for i, r := range NewCode() {
			counts[i][r-'0']++
		}
	}

	expected := float64(n) / 10
	for pos, digits := range counts {
		chi := 0.0
		for _, c := range digits {
			chi += math.Pow(float64(c)-expected, 2) / expected
		}
		if chi > 48 {
			t.Errorf("position %d: chi-squared %.1f over digit counts %v", pos, chi, digits)
		}
	}
}
