//! The `collections` shelf: lists and maps. Every kind returns a new value (inputs are shared,
//! copy-on-write). Indices may be negative (counting from the end); an index or key that is not
//! there is an error naming the input.

use std::cmp::Ordering;

use super::order::{incomparable, order};
use crate::kind::{KindError, kind_error};
use crate::{Map, Shelf, Value};

/// The number of item inputs of `collections.list`.
pub const LIST_ITEMS: usize = 4;

/// A list of the first `count` of `a`, `b`, `c`, `d` (count 0 to 4).
#[crate::kind(name = "collections.list")]
pub fn list(
    #[default(Value::Null)] a: Value,
    #[default(Value::Null)] b: Value,
    #[default(Value::Null)] c: Value,
    #[default(Value::Null)] d: Value,
    #[default(2)] count: i64,
) -> Result<Vec<Value>, KindError> {
    let n = usize::try_from(count)
        .ok()
        .filter(|n| *n <= LIST_ITEMS)
        .ok_or_else(|| kind_error("count", &format!("{count} is not between 0 and {LIST_ITEMS}")))?;
    Ok([a, b, c, d].into_iter().take(n).collect())
}

/// A map from a list of string `keys` and a list of `values` of the same length.
#[crate::kind(name = "collections.map")]
pub fn map(keys: Vec<Value>, values: Vec<Value>) -> Result<Map, KindError> {
    if keys.len() != values.len() {
        let problem = format!("{} values for {} keys", values.len(), keys.len());
        return Err(kind_error("values", &problem));
    }
    let mut out = Map::new();
    for (i, (k, v)) in keys.into_iter().zip(values).enumerate() {
        let key = k
            .as_str()
            .ok_or_else(|| kind_error("keys", &format!("key {i} is {}, not a string", k.type_of())))?;
        out.insert(key, v);
    }
    Ok(out)
}

/// Resolves a possibly negative `index` into `0..len`.
fn resolve(index: i64, len: usize, port: &str) -> Result<usize, KindError> {
    let signed = if index < 0 { len as i64 + index } else { index };
    usize::try_from(signed)
        .ok()
        .filter(|i| *i < len)
        .ok_or_else(|| kind_error(port, &format!("index {index} is out of range for {len} items")))
}

fn map_key<'a>(key: &'a Value, port: &str) -> Result<&'a str, KindError> {
    key.as_str().ok_or_else(|| {
        kind_error(
            port,
            &format!(
                "a map key must be a string, got {} `{}`",
                key.type_of(),
                key.preview(30)
            ),
        )
    })
}

fn list_index(key: &Value, port: &str) -> Result<i64, KindError> {
    key.as_int().ok_or_else(|| {
        kind_error(
            port,
            &format!(
                "a list index must be an int, got {} `{}`",
                key.type_of(),
                key.preview(30)
            ),
        )
    })
}

fn not_a_collection(v: &Value) -> KindError {
    kind_error(
        "collection",
        &format!("expected a list or map, got {} `{}`", v.type_of(), v.preview(30)),
    )
}

/// Item `key` of a list (an int, negative from the end) or map (a string); a missing item is
/// an error.
#[crate::kind(name = "collections.get")]
pub fn get(collection: Value, key: Value) -> Result<Value, KindError> {
    match &collection {
        Value::List(items) => Ok(items[resolve(list_index(&key, "key")?, items.len(), "key")?].clone()),
        Value::Map(m) => {
            let k = map_key(&key, "key")?;
            m.get(k)
                .cloned()
                .ok_or_else(|| kind_error("key", &format!("no key `{k}` in the map")))
        }
        other => Err(not_a_collection(other)),
    }
}

/// A copy of a list with item `key` replaced, or of a map with `key` set (added if new).
#[crate::kind(name = "collections.set")]
pub fn set(collection: Value, key: Value, value: Value) -> Result<Value, KindError> {
    let mut out = collection;
    if let Some(items) = out.as_list_mut() {
        let i = resolve(list_index(&key, "key")?, items.len(), "key")?;
        items[i] = value;
    } else if let Some(m) = out.as_map_mut() {
        m.insert(map_key(&key, "key")?, value);
    } else {
        return Err(not_a_collection(&out));
    }
    Ok(out)
}

/// The number of items of a list or map, characters of a string, or bytes of bytes.
#[crate::kind(name = "collections.len")]
pub fn len(collection: Value) -> Result<i64, KindError> {
    let n = match &collection {
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Str(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        other => return Err(kind_error("collection", &format!("{} has no length", other.type_of()))),
    };
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Resolves a slice bound into `0..=len`.
fn bound(index: i64, len: usize, port: &str) -> Result<usize, KindError> {
    let signed = if index < 0 { len as i64 + index } else { index };
    usize::try_from(signed)
        .ok()
        .filter(|i| *i <= len)
        .ok_or_else(|| kind_error(port, &format!("{index} is out of range for {len} items")))
}

/// Items `start` (inclusive) to `stop` (exclusive; null for the end) of a list; negative
/// bounds count from the end; a bound past the end, or `stop` before `start`, is an error.
#[crate::kind(name = "collections.slice")]
pub fn slice(
    items: Vec<Value>,
    #[default(0)] start: i64,
    #[default(Value::Null)] stop: Value,
) -> Result<Vec<Value>, KindError> {
    let from = bound(start, items.len(), "start")?;
    let to = match stop {
        Value::Null => items.len(),
        other => bound(list_index(&other, "stop")?, items.len(), "stop")?,
    };
    if to < from {
        return Err(kind_error("stop", &format!("ends at {to}, before start {from}")));
    }
    Ok(items[from..to].to_vec())
}

/// Two lists joined, or two maps merged (`b`'s keys win).
#[crate::kind(name = "collections.concat")]
pub fn concat(a: Value, b: Value) -> Result<Value, KindError> {
    let mut out = a;
    match (&mut out, &b) {
        (Value::List(x), Value::List(y)) => std::sync::Arc::make_mut(x).extend(y.iter().cloned()),
        (Value::Map(x), Value::Map(y)) => {
            let m = std::sync::Arc::make_mut(x);
            for (k, v) in y.iter() {
                m.insert(k, v.clone());
            }
        }
        (x, y) => {
            let problem = format!(
                "cannot join {} and {} (give two lists or two maps)",
                x.type_of(),
                y.type_of()
            );
            return Err(kind_error("b", &problem));
        }
    }
    Ok(out)
}

fn sort_key(item: &Value, by: &str) -> Result<Value, KindError> {
    if by.is_empty() {
        return Ok(item.clone());
    }
    item.get(by)
        .cloned()
        .ok_or_else(|| kind_error("items", &format!("item {} has no field `{by}`", item.preview(30))))
}

/// A list sorted ascending (stable), or descending when `descending`; `by` names a map field
/// to sort by. Items that do not compare are an error.
#[crate::kind(name = "collections.sort")]
pub fn sort(
    items: Vec<Value>,
    #[default(false)] descending: bool,
    #[default("")] by: String,
) -> Result<Vec<Value>, KindError> {
    let mut keyed = items
        .into_iter()
        .map(|item| sort_key(&item, &by).map(|k| (k, item)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut bad = None;
    keyed.sort_by(|(x, _), (y, _)| {
        order(x, y).unwrap_or_else(|| {
            bad.get_or_insert_with(|| incomparable(x, y));
            Ordering::Equal
        })
    });
    if let Some(problem) = bad {
        return Err(kind_error("items", &problem));
    }
    if descending {
        keyed.reverse();
    }
    Ok(keyed.into_iter().map(|(_, item)| item).collect())
}

/// The keys of a map, in insertion order.
#[crate::kind(name = "collections.keys")]
pub fn keys(map: Map) -> Vec<Value> {
    map.keys().map(Value::str).collect()
}

/// Whether a list holds `item` (by [`compare.eq`](super::compare::eq)) or a map has key `item`.
#[crate::kind(name = "collections.contains")]
pub fn contains(collection: Value, item: Value) -> Result<bool, KindError> {
    match &collection {
        Value::List(l) => Ok(l.iter().any(|x| super::order::equal(x, &item))),
        Value::Map(m) => Ok(m.contains_key(map_key(&item, "item")?)),
        other => Err(not_a_collection(other)),
    }
}

/// The `collections` shelf.
pub fn shelf() -> Shelf {
    Shelf::new(
        "collections",
        "Lists and maps: list, map, get, set, len, slice, concat, sort, keys, contains",
    )
    .with(list_kind())
    .with(map_kind())
    .with(get_kind())
    .with(set_kind())
    .with(len_kind())
    .with(slice_kind())
    .with(concat_kind())
    .with(sort_kind())
    .with(keys_kind())
    .with(contains_kind())
}
