//! The field names of a serde struct, read at definition time: a deserializer that answers
//! `deserialize_struct` by reporting the fields it was asked for, and everything else with
//! "not a struct". This is how a step taking `#[derive(Deserialize)] struct Args { a, b }`
//! knows its parameters are `a` and `b` before it ever runs.

use std::fmt;

use serde::de::{self, Deserialize, Visitor};

/// Why the probe stopped: the struct's fields, or a shape without fixed fields.
#[derive(Debug)]
enum Probe {
    Fields(&'static [&'static str]),
    Open,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field probe")
    }
}

impl std::error::Error for Probe {}

impl de::Error for Probe {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Probe::Open
    }
}

struct FieldProbe;

impl<'de> de::Deserializer<'de> for FieldProbe {
    type Error = Probe;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Probe> {
        Err(Probe::Open)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Probe> {
        Err(Probe::Fields(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The field names of `T` if it deserializes as a struct (`None`: a map, a `Value`, or
/// anything else whose keys are not fixed).
pub(crate) fn struct_fields<T: for<'de> Deserialize<'de>>() -> Option<Vec<String>> {
    match T::deserialize(FieldProbe) {
        Err(Probe::Fields(fields)) => Some(fields.iter().map(|f| (*f).to_string()).collect()),
        _ => None,
    }
}

/// The field named in serde's "missing field `x`" message, if that is what `message` says.
pub(crate) fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(field, _)| field)
}
