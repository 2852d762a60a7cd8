// Copyright 2021 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE-GO file.

package rsaverify

import "math/bits"

// The arithmetic below is the standard library's Montgomery
// multiplication (crypto/internal/fips140/bigmod: montgomeryMul,
// maybeSubtractModulus, addMulVVW and ExpShortVarTime), reduced to what a
// public-key operation needs and working on fixed-size arrays, so nothing
// escapes to the heap. Only public values pass through it (the modulus, the
// exponent and the signature), so unlike bigmod it need not run in constant
// time; it still does, except for the exponent's bits.

const (
	// _W is the size in bits of a limb.
	_W = bits.UintSize
	// _S is the size in bytes of a limb.
	_S = _W / 8
	// maxBits is the largest modulus taken by the fast path; larger keys
	// are verified by crypto/rsa.
	maxBits = 4096
	// maxLimbs is the number of limbs of a maxBits modulus.
	maxLimbs = maxBits / _W
)

// montMul sets x = a·b/R mod m, with R = 2^(_W·n) and n = len(m): a
// Montgomery multiplication (Gueron, "Efficient Software Implementations of
// Modular Exponentiation", algorithm 4). a and b are reduced mod m and have
// n limbs; x may alias either.
//
//go:norace
func montMul(x, a, b, m []uint, m0inv uint) {
	n := len(m)
	var t [2 * maxLimbs]uint
	T := t[:2*n]
	a, b = a[:n], b[:n]
	var c uint
	switch n {
	case 1024 / _W:
		const n = 1024 / _W
		for i := 0; i < n; i++ {
			c1 := addMulVVW1024(&T[i], &a[0], b[i])
			y := T[i] * m0inv
			c2 := addMulVVW1024(&T[i], &m[0], y)
			T[n+i], c = bits.Add(c1, c2, c)
		}
	case 1536 / _W:
		const n = 1536 / _W
		for i := 0; i < n; i++ {
			c1 := addMulVVW1536(&T[i], &a[0], b[i])
			y := T[i] * m0inv
			c2 := addMulVVW1536(&T[i], &m[0], y)
			T[n+i], c = bits.Add(c1, c2, c)
		}
	case 2048 / _W:
		const n = 2048 / _W
		for i := 0; i < n; i++ {
			c1 := addMulVVW2048(&T[i], &a[0], b[i])
			y := T[i] * m0inv
			c2 := addMulVVW2048(&T[i], &m[0], y)
			T[n+i], c = bits.Add(c1, c2, c)
		}
	default:
		for i := 0; i < n; i++ {
			_ = T[n+i]
			c1 := addMulVVW(T[i:n+i], a, b[i])
			y := T[i] * m0inv
			c2 := addMulVVW(T[i:n+i], m, y)
			T[n+i], c = bits.Add(c1, c2, c)
		}
	}
	copy(x[:n], T[n:])
	maybeSubtract(x[:n], c, m)
}

// maybeSubtract sets x -= m when x >= m or when always is 1 (the
// multiplication overflowed n limbs), leaving x reduced mod m.
//
//go:norace
func maybeSubtract(x []uint, always uint, m []uint) {
	var t [maxLimbs]uint
	d := t[:len(x)]
	var borrow uint
	for i := range x {
		d[i], borrow = bits.Sub(x[i], m[i], borrow)
	}
	// Keep x - m unless it underflowed and nothing overflowed.
	mask := -((1 ^ borrow) | always)
	for i := range x {
		x[i] ^= mask & (x[i] ^ d[i])
	}
}

// addMulVVW sets z += x·y and returns the carry: one row of a column
// multiplication.
//
//go:norace
func addMulVVW(z, x []uint, y uint) (carry uint) {
	_ = x[len(z)-1]
	for i := range z {
		hi, lo := bits.Mul(x[i], y)
		lo, c := bits.Add(lo, z[i], 0)
		hi, _ = bits.Add(hi, 0, c)
		lo, c = bits.Add(lo, carry, 0)
		hi, _ = bits.Add(hi, 0, c)
		carry = hi
		z[i] = lo
	}
	return carry
}

// minusInverseModW returns -x⁻¹ mod 2^_W for an odd x.
func minusInverseModW(x uint) uint {
	y := x
	for i := 0; i < 5; i++ {
		y = y * (2 - x*y)
	}
	return -y
}
