//! [`FromPort`]/[`IntoPort`]: Rust types usable as kind parameters and results, with their
//! port [`Type`].

use std::sync::Arc;

use crate::{ConvertError, Map, Type, Value};

/// A Rust type a kind parameter may have: its port type and the conversion from a [`Value`].
pub trait FromPort: Sized {
    /// The port type shown in listings and checked at connect time.
    const TYPE: Type;
    /// Converts the input value.
    ///
    /// # Errors
    /// The value does not convert.
    fn from_port(value: Value) -> Result<Self, ConvertError>;
}

/// A Rust type a kind may return: its port type and the conversion into a [`Value`].
pub trait IntoPort {
    /// The port type shown in listings and checked at connect time.
    const TYPE: Type;
    /// Converts the result.
    fn into_port(self) -> Value;
}

macro_rules! port {
    ($($t:ty => $ty:ident),* $(,)?) => {$(
        impl FromPort for $t {
            const TYPE: Type = Type::$ty;
            #[inline]
            fn from_port(value: Value) -> Result<Self, ConvertError> {
                <$t>::try_from(value)
            }
        }
        impl IntoPort for $t {
            const TYPE: Type = Type::$ty;
            #[inline]
            fn into_port(self) -> Value {
                Value::from(self)
            }
        }
    )*};
}

port!(bool => Bool, i64 => Int, f64 => Float, String => Str, Arc<str> => Str, Vec<Value> => List, Map => Map);

impl FromPort for Value {
    const TYPE: Type = Type::Any;
    #[inline]
    fn from_port(value: Value) -> Result<Self, ConvertError> {
        Ok(value)
    }
}

impl IntoPort for Value {
    const TYPE: Type = Type::Any;
    fn into_port(self) -> Value {
        self
    }
}

impl FromPort for usize {
    const TYPE: Type = Type::Int;
    fn from_port(value: Value) -> Result<Self, ConvertError> {
        usize::try_from(value)
    }
}

impl IntoPort for usize {
    const TYPE: Type = Type::Int;
    fn into_port(self) -> Value {
        Value::Int(i64::try_from(self).unwrap_or(i64::MAX))
    }
}

impl FromPort for Vec<u8> {
    const TYPE: Type = Type::Bytes;
    fn from_port(value: Value) -> Result<Self, ConvertError> {
        Vec::<u8>::try_from(value)
    }
}

impl IntoPort for Vec<u8> {
    const TYPE: Type = Type::Bytes;
    fn into_port(self) -> Value {
        Value::Bytes(Arc::new(self))
    }
}

impl IntoPort for () {
    const TYPE: Type = Type::Null;
    fn into_port(self) -> Value {
        Value::Null
    }
}

/// An int or a float: math kinds keep ints as ints and widen to float when either side is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(x) => x,
        }
    }
}

impl FromPort for Number {
    const TYPE: Type = Type::Number;
    #[inline]
    fn from_port(value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Int(i) => Ok(Number::Int(i)),
            Value::Float(x) => Ok(Number::Float(x)),
            other => Err(ConvertError::mismatch(Type::Number, &other)),
        }
    }
}

impl IntoPort for Number {
    const TYPE: Type = Type::Number;
    #[inline]
    fn into_port(self) -> Value {
        match self {
            Number::Int(i) => Value::Int(i),
            Number::Float(x) => Value::Float(x),
        }
    }
}
