//! The `math` shelf: arithmetic on numbers. Ints stay ints (falling back to floats on
//! overflow); a float on either side gives a float.

use crate::Shelf;
use crate::kind::{Number, kind_error};

fn int_or_float(a: Number, b: Number, int: fn(i64, i64) -> Option<i64>, float: fn(f64, f64) -> f64) -> Number {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => {
            int(x, y).map_or_else(|| Number::Float(float(x as f64, y as f64)), Number::Int)
        }
        _ => Number::Float(float(a.as_f64(), b.as_f64())),
    }
}

/// Adds two numbers.
#[crate::kind(name = "math.add")]
pub fn add(a: Number, #[default(0)] b: Number) -> Number {
    int_or_float(a, b, i64::checked_add, |x, y| x + y)
}

/// Subtracts `b` from `a`.
#[crate::kind(name = "math.sub")]
pub fn sub(a: Number, #[default(0)] b: Number) -> Number {
    int_or_float(a, b, i64::checked_sub, |x, y| x - y)
}

/// Multiplies two numbers.
#[crate::kind(name = "math.mul")]
pub fn mul(a: Number, #[default(1)] b: Number) -> Number {
    int_or_float(a, b, i64::checked_mul, |x, y| x * y)
}

/// Divides `a` by `b` (always a float); dividing by zero is an error.
#[crate::kind(name = "math.div")]
pub fn div(a: Number, b: Number) -> Result<f64, crate::kind::KindError> {
    if b.as_f64() == 0.0 {
        return Err(kind_error("b", "division by zero"));
    }
    Ok(a.as_f64() / b.as_f64())
}

/// The remainder of `a / b` (ints: Euclidean, never negative); zero `b` is an error.
#[crate::kind(name = "math.rem")]
pub fn rem(a: Number, b: Number) -> Result<Number, crate::kind::KindError> {
    if b.as_f64() == 0.0 {
        return Err(kind_error("b", "division by zero"));
    }
    Ok(int_or_float(a, b, i64::checked_rem_euclid, f64::rem_euclid))
}

/// Negates a number.
#[crate::kind(name = "math.neg")]
pub fn neg(x: Number) -> Number {
    int_or_float(Number::Int(0), x, i64::checked_sub, |a, b| a - b)
}

/// The absolute value.
#[crate::kind(name = "math.abs")]
pub fn abs(x: Number) -> Number {
    match x {
        Number::Int(i) => i.checked_abs().map_or(Number::Float((i as f64).abs()), Number::Int),
        Number::Float(f) => Number::Float(f.abs()),
    }
}

/// The smaller of two numbers.
#[crate::kind(name = "math.min")]
pub fn min(a: Number, b: Number) -> Number {
    int_or_float(a, b, |x, y| Some(x.min(y)), f64::min)
}

/// The larger of two numbers.
#[crate::kind(name = "math.max")]
pub fn max(a: Number, b: Number) -> Number {
    int_or_float(a, b, |x, y| Some(x.max(y)), f64::max)
}

/// `base` raised to `exp` (a float).
#[crate::kind(name = "math.pow")]
pub fn pow(base: Number, exp: Number) -> f64 {
    base.as_f64().powf(exp.as_f64())
}

/// The square root; negative input is an error.
#[crate::kind(name = "math.sqrt")]
pub fn sqrt(x: Number) -> Result<f64, crate::kind::KindError> {
    if x.as_f64() < 0.0 {
        return Err(kind_error("x", "square root of a negative number"));
    }
    Ok(x.as_f64().sqrt())
}

/// Quotient and remainder of two ints (Euclidean); zero `b` is an error.
#[crate::kind(name = "math.divmod", outputs("quotient", "remainder"))]
pub fn divmod(a: i64, b: i64) -> Result<(i64, i64), crate::kind::KindError> {
    match (a.checked_div_euclid(b), a.checked_rem_euclid(b)) {
        (Some(q), Some(r)) => Ok((q, r)),
        _ => Err(kind_error("b", "division by zero or overflow")),
    }
}

/// The `math` shelf.
pub fn shelf() -> Shelf {
    Shelf::new("math", "Arithmetic on numbers")
        .with(add_kind())
        .with(sub_kind())
        .with(mul_kind())
        .with(div_kind())
        .with(rem_kind())
        .with(neg_kind())
        .with(abs_kind())
        .with(min_kind())
        .with(max_kind())
        .with(pow_kind())
        .with(sqrt_kind())
        .with(divmod_kind())
}
