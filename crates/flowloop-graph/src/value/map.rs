//! [`Map`]: string keys in insertion order.

use std::fmt;
use std::sync::Arc;

use super::Value;

/// A map from string keys to [`Value`]s that keeps insertion order (iteration, display and
/// serialization follow it). Lookups scan the keys: maps in graphs are small records.
#[derive(Clone, Default, PartialEq)]
pub struct Map {
    entries: Vec<(Arc<str>, Value)>,
}

impl Map {
    /// An empty map.
    pub fn new() -> Map {
        Map::default()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| &**k == key)
    }

    /// Sets `key` (kept in its first position if it existed) and returns the old value.
    pub fn insert(&mut self, key: &str, value: impl Into<Value>) -> Option<Value> {
        let value = value.into();
        match self.position(key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((Arc::from(key), value));
                None
            }
        }
    }

    /// An empty map with room for `n` entries.
    pub(crate) fn with_capacity(n: usize) -> Map {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// Appends `key`, which the caller knows is absent (no scan, and a shared key is not
    /// copied: merging many keys stays linear and allocation-free per key).
    pub(crate) fn push_absent(&mut self, key: Arc<str>, value: Value) {
        debug_assert!(!self.contains_key(&key), "push_absent: `{key}` is already present");
        self.entries.push((key, value));
    }

    /// The entries moved out, keys still shared (no key is copied or re-counted).
    pub(crate) fn into_entries(self) -> std::vec::IntoIter<(Arc<str>, Value)> {
        self.entries.into_iter()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// The value of `key`, for mutation.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).map(|i| &mut self.entries[i].1)
    }

    /// Removes `key` (the others keep their order) and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.position(key).map(|i| self.entries.remove(i).1)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| &**k)
    }
}

impl<K: AsRef<str>, V: Into<Value>> FromIterator<(K, V)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = Map::new();
        for (k, v) in iter {
            m.insert(k.as_ref(), v);
        }
        m
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{k:?}: {v}")?;
        }
        f.write_str("}")
    }
}
