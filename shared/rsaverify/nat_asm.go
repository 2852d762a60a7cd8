// Copyright 2023 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE-GO file.

//go:build !purego && (amd64 || arm64)

package rsaverify

import "golang.org/x/sys/cpu"

// supportADX selects the amd64 assembly's ADCX/ADOX/MULX path (read by
// nat_amd64.s); the standard library makes the same choice.
var supportADX = cpu.X86.HasADX && cpu.X86.HasBMI2

// The assembly is the standard library's (crypto/internal/fips140/bigmod),
// unchanged: z[0:k] += x[0:k]·y, returning the carry, for k = 16, 24 and
// 32 words.

//go:noescape
func addMulVVW1024(z, x *uint, y uint) (c uint)

//go:noescape
func addMulVVW1536(z, x *uint, y uint) (c uint)

//go:noescape
func addMulVVW2048(z, x *uint, y uint) (c uint)
