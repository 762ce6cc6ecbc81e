"""Numbers as Redis reads and writes them (string2ll, strtold, long double formatting), with
its exact errors: shared by the command families, the configuration and the indexes."""

from __future__ import annotations

import re
from fractions import Fraction

from respserver.errors import INCR_NAN_OR_INF, NOT_FLOAT, NOT_INTEGER, CommandError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INTEGER = re.compile(rb"-?(0|[1-9][0-9]{0,18})")


def to_int(value: bytes, error: str = NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer as Redis's ``string2ll`` does (no sign '+', no spaces,
    no leading zeros); otherwise raise ``error``."""
    if _INTEGER.fullmatch(value) is None or value == b"-0":
        raise CommandError(error)
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise CommandError(error)
    return number


def wrap_int64(number: int) -> int:
    """``number`` as C's 64-bit two's-complement arithmetic leaves it (a product or sum that
    overflows a long long wraps around)."""
    return (number - INT64_MIN) % 2**64 + INT64_MIN


def to_int_at_least(value: bytes, least: int, error: str) -> int:
    """Redis's getRangeLongFromObjectOrReply(least, LONG_MAX, msg): one message, ``error``,
    for a value that is no integer and for one below ``least`` (getPositiveLong...: 0)."""
    number = to_int(value, error)
    if number < least:
        raise CommandError(error)
    return number


def to_float(value: bytes, error: str = NOT_FLOAT) -> float:
    """Parse a double as Redis's ``string2d`` does: no surrounding spaces, no NaN, and none of
    the digit separators Python's ``float()`` would accept ("1_0")."""
    if not value or value[:1].isspace() or value[-1:].isspace() or b"_" in value:
        raise CommandError(error)
    try:
        number = float(value)
    except ValueError:
        raise CommandError(error) from None
    if number != number:
        raise CommandError(error)
    return number


# --- doubles as C's strtod reads them (sorted-set scores, weights and ranges) -----------------

_STRTOD_DECIMAL = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_STRTOD_HEX = re.compile(
    rb"([+-]?)(0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
)
_C_SPACE = b" \t\n\v\f\r"  # C's isspace
_SPACES = tuple(bytes((c,)) for c in _C_SPACE)
_INF = float("inf")


def strtod(text: bytes) -> tuple[float, bool] | None:
    """glibc's ``strtod`` over all of ``text``: decimal or hex syntax, "inf"/"infinity", an
    optional sign. The value and whether it was out of range (ERANGE: an overflow, now ±inf, or
    an underflow to zero); None when ``text`` is not one whole number, or is a NaN."""
    if _STRTOD_DECIMAL.fullmatch(text) is not None:
        value = float(text)
        digits = text.lstrip(b"+-").split(b"e")[0].split(b"E")[0]
        huge = value in (_INF, -_INF)
        return value, huge or (value == 0 and digits.strip(b"0.") != b"")
    hexadecimal = _STRTOD_HEX.fullmatch(text)
    if hexadecimal is not None:
        sign, body = hexadecimal.groups()
        try:
            value = float.fromhex(body.decode())
        except OverflowError:
            return (-_INF if sign == b"-" else _INF), True
        mantissa = body[2:].split(b"p")[0].split(b"P")[0]
        return (-value if sign == b"-" else value), value == 0 and mantissa.strip(b"0.") != b""
    if _LD_INFINITY.fullmatch(text) is not None:
        return (-_INF if text[:1] == b"-" else _INF), False
    return None


def to_double(value: bytes, error: str = NOT_FLOAT) -> float:
    """Parse a double as Redis's ``string2d``: strtod over the whole string, no leading space,
    no NaN, and nothing out of range (1e400, 1e-400); otherwise raise ``error``."""
    parsed = strtod(value) if value[:1] not in (b"", *_SPACES) else None
    if parsed is None or parsed[1]:
        raise CommandError(error)
    return parsed[0]


def range_double(value: bytes, error: str) -> float:
    """A score range's bound as Redis's zslParseRange reads it: strtod up to the first NUL,
    leading spaces skipped, out-of-range values kept (±inf, 0) and "" read as 0; NaN or
    anything after the number raises ``error``."""
    text = value.split(b"\0", 1)[0]
    if not text:
        return 0.0
    parsed = strtod(text.lstrip(_C_SPACE))
    if parsed is None:
        raise CommandError(error)
    return parsed[0]


# --- long double arithmetic (INCRBYFLOAT, HINCRBYFLOAT) -----------------------------------------
#
# Redis adds floats in C's `long double`: on x86 the 80-bit extended format, a 64-bit significand
# with exponents down to 2**-16445 (subnormals) and up to 2**16384 (exclusive), and prints the sum
# with "%.17Lf". A Python float (53 bits) gives other digits (10.5 + 0.1 -> 10.59999999999999964
# instead of 10.6), so values are kept as exact Fractions, rounded as the FPU rounds (to nearest,
# ties to even) at the two places C rounds: strtold's parse and the addition.

LongDouble = Fraction | float  # a finite value as an exact Fraction, or float("inf")/float("-inf")

MAX_LONG_DOUBLE_CHARS = 5 * 1024  # string2ld refuses strings this long
_LD_SIGNIFICAND_BITS = 64
_LD_MIN_EXPONENT = -16445  # of the last significand bit of the smallest subnormal
_LD_MAX_BITS = 16384  # values need fewer bits than this above the binary point
_LD_DECIMAL = re.compile(rb"([+-]?)(?:([0-9]+)\.?([0-9]*)|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?")
_LD_HEX = re.compile(
    rb"([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?"
)
_LD_INFINITY = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)
_CHUNK_DIGITS = 4000  # below CPython's limit on int <-> decimal string conversions


def _decimal_to_int(digits: bytes) -> int:
    if len(digits) <= _CHUNK_DIGITS:
        return int(digits or b"0")
    head, tail = digits[:-_CHUNK_DIGITS], digits[-_CHUNK_DIGITS:]
    return _decimal_to_int(head) * 10**_CHUNK_DIGITS + int(tail)


def _int_to_decimal(number: int) -> bytes:
    if number < 10**_CHUNK_DIGITS:
        return b"%d" % number
    head, tail = divmod(number, 10**_CHUNK_DIGITS)
    return _int_to_decimal(head) + b"%0*d" % (_CHUNK_DIGITS, tail)


def _round_half_even(numerator: int, denominator: int) -> int:
    quotient, rest = divmod(numerator, denominator)
    if 2 * rest > denominator or (2 * rest == denominator and quotient & 1):
        quotient += 1
    return quotient


def round_long_double(value: Fraction) -> LongDouble:
    """The long double nearest ``value`` (ties to even): an exact Fraction, or ±inf on overflow."""
    if not value:
        return Fraction(0)
    n, d = abs(value.numerator), value.denominator
    exponent = n.bit_length() - d.bit_length()  # floor(log2(|value|)) is this or one less
    if (n << max(-exponent, 0)) < (d << max(exponent, 0)):
        exponent -= 1
    shift = max(exponent - (_LD_SIGNIFICAND_BITS - 1), _LD_MIN_EXPONENT)
    significand = _round_half_even(n << max(-shift, 0), d << max(shift, 0))
    if significand.bit_length() + shift > _LD_MAX_BITS:
        return float("inf") if value > 0 else float("-inf")
    result = Fraction(significand) * (Fraction(2) ** shift)
    return result if value > 0 else -result


def _parse_exact(text: bytes) -> Fraction | None:
    """The exact number ``strtold`` would round, for decimal or hex (``0x1.8p3``) syntax; None
    for wrong syntax or a magnitude so far out of range that it can only overflow or underflow."""
    match = _LD_DECIMAL.fullmatch(text)
    base, digit_bits = 10, 0
    if match is None:
        match = _LD_HEX.fullmatch(text)
        base, digit_bits = 2, 4
        if match is None:
            return None
    sign, whole, fraction, only_fraction, exponent_text = match.groups()
    fraction = fraction or only_fraction or b""
    digits = ((whole or b"") + fraction).lstrip(b"0")
    if not digits:
        return Fraction(0)
    exponent = exponent_text or b"0"
    if len(exponent.lstrip(b"+-0")) > 9:
        return None
    # value = significand * base ** exponent, in decimal digits or in bits
    if base == 10:
        exponent = int(exponent) - len(fraction)
        magnitude, limit = exponent + len(digits), 5000
    else:
        exponent = int(exponent) - digit_bits * len(fraction)
        magnitude, limit = exponent + digit_bits * len(digits), 17000
    if abs(magnitude) > limit:
        return None
    significand = _decimal_to_int(digits) if base == 10 else int(digits, 16)
    value = significand * Fraction(base) ** exponent
    return -value if sign == b"-" else value


def to_long_double(value: bytes, error: str = NOT_FLOAT) -> LongDouble:
    """Parse a float as Redis's ``string2ld`` does with ``strtold``: decimal or hex syntax, an
    optional sign, no spaces, and "inf"/"infinity" (-> ±inf); NaN, junk, 5 kB or longer, and
    finite values that overflow or round to zero raise ``error``."""
    if not value or len(value) >= MAX_LONG_DOUBLE_CHARS:
        raise CommandError(error)
    infinite = _LD_INFINITY.fullmatch(value)
    if infinite is not None:
        return float("-inf") if infinite.group(1) == b"-" else float("inf")
    exact = _parse_exact(value)
    if exact is None:
        raise CommandError(error)
    rounded = round_long_double(exact)
    if type(rounded) is float or (exact and not rounded):
        raise CommandError(error)
    return rounded


def format_long_double(value: Fraction) -> bytes:
    """``%.17Lf`` (exact digits, ties to even) without trailing zeros or '.', and never "-0":
    Redis's ld2string in LD_STR_HUMAN mode."""
    scaled = abs(value) * 10**17
    units, decimals = divmod(_round_half_even(scaled.numerator, scaled.denominator), 10**17)
    text = (_int_to_decimal(units) + b".%017d" % decimals).rstrip(b"0").rstrip(b".")
    return b"-" + text if value < 0 and text != b"0" else text


def add_long_double(a: bytes, b: bytes) -> bytes:
    """``a + b`` as Redis's INCRBYFLOAT computes and prints it. Raises NOT_FLOAT if either is
    not a float (``a`` checked first), INCR_NAN_OR_INF if the sum is not finite."""
    x, y = to_long_double(a), to_long_double(b)
    return long_double_sum(x, y)


def long_double_sum(x: LongDouble, y: LongDouble) -> bytes:
    """The printed long double sum of two parsed values; raises INCR_NAN_OR_INF if not finite."""
    if type(x) is float or type(y) is float:
        raise CommandError(INCR_NAN_OR_INF)
    total = round_long_double(x + y)
    if type(total) is float:
        raise CommandError(INCR_NAN_OR_INF)
    return format_long_double(total)
