#!/usr/bin/python3
"""Print the power-of-five tables of lib/common/dtoa.c.

Ryu (Ulf Adams, "Ryu: fast float-to-string conversion", PLDI 2018) scales a
double's binary significand by 10^-q with one 64x128-bit multiplication by
a 125-bit approximation of 5^i or 5^-q:

  POW5[i]     = 5^i, its top 125 bits (truncated), i = 0 .. 325
  POW5_INV[q] = floor(2^(bits(5^q) - 1 + 125) / 5^q) + 1, q = 0 .. 341

each printed as {low 64 bits, high 64 bits}.  Exact integer arithmetic, so
the tables are reproducible: test/tools/dtoa-tables.py prints the arrays as
they stand in lib/common/dtoa.c.
"""

BITS = 125


def words(x):
    lo, hi = x & (2**64 - 1), x >> 64
    assert hi < 2**64
    return "{0x%016xu, 0x%016xu}" % (lo, hi)


def pow5(i):
    p = 5**i
    shift = p.bit_length() - BITS
    return p >> shift if shift >= 0 else p << -shift


def pow5_inv(q):
    p = 5**q
    return (1 << (p.bit_length() - 1 + BITS)) // p + 1


def table(name, n, f):
    print("static const uint64_t %s[%d][2] = {" % (name, n))
    for i in range(n):
        print("\t%s,\t/* %d */" % (words(f(i)), i))
    print("};")


table("POW5", 326, pow5)
print()
table("POW5_INV", 342, pow5_inv)
