//! Stream entries as this crate writes them: `d=<json>`, a bundle of several payloads
//! `b=<len>:<json><len>:<json>...`, or the end marker `eos=<producer>`.

use std::rc::Rc;

use crate::resp::Reply;

/// What one stream entry carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// A JSON payload.
    Data(Rc<[u8]>),
    /// Several JSON payloads in one entry (written by producers with
    /// [`crate::RunSettings::bundle`] above 1, and by commits of such entries): read, acked,
    /// fenced and counted against caps as one entry.
    Bundle(Vec<Rc<[u8]>>),
    /// The end-of-stream marker, naming the producer.
    End,
    /// An entry whose body was deleted (listed by history reads only).
    Gone,
}

/// One stream entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub id: String,
    pub body: Body,
    pub deliveries: u32,
}

impl Entry {
    /// Parses `[id, [field, value, ...]]`.
    pub fn parse(reply: Reply) -> Option<Entry> {
        let mut parts = reply.into_items().into_iter();
        let id = parts.next()?.as_str()?.to_string();
        let fields = parts.next().unwrap_or(Reply::Nil);
        let mut body = Body::Gone;
        for (k, v) in fields.pairs() {
            match (k.as_str(), v) {
                (Some("d"), Reply::Bytes(b)) => body = Body::Data(b.into()),
                // A malformed bundle is handed on whole, so its handler fails to decode it and
                // it ends in the dead-letter stream instead of staying pending forever.
                (Some("b"), Reply::Bytes(b)) => body = unbundle(&b).map_or_else(|| Body::Data(b.into()), Body::Bundle),
                (Some("eos"), _) => body = Body::End,
                _ => {}
            }
        }
        Some(Entry {
            id,
            body,
            deliveries: 1,
        })
    }

    /// Parses an `XRANGE` reply or the entry list of one stream.
    pub fn parse_list(reply: Reply) -> Vec<Entry> {
        reply.into_items().into_iter().filter_map(Entry::parse).collect()
    }
}

impl Body {
    /// The payloads the entry carries (none for a marker or a deleted entry).
    pub fn payloads(self) -> Vec<Rc<[u8]>> {
        match self {
            Body::Data(d) => vec![d],
            Body::Bundle(items) => items,
            Body::End | Body::Gone => Vec::new(),
        }
    }
}

/// The stream field of a bundle entry.
pub(crate) const BUNDLE_FIELD: &str = "b";

/// Encodes `payloads` as one bundle value: each as `<decimal length>:<bytes>`.
pub(crate) fn bundle<'a>(payloads: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in payloads {
        out.extend_from_slice(p.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(p);
    }
    out
}

/// Decodes a bundle value; `None` when it is not one (a bad length or a truncated payload).
pub(crate) fn unbundle(mut raw: &[u8]) -> Option<Vec<Rc<[u8]>>> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let colon = raw.iter().position(|b| *b == b':')?;
        let len: usize = std::str::from_utf8(&raw[..colon]).ok()?.parse().ok()?;
        let rest = &raw[colon + 1..];
        out.push(Rc::from(rest.get(..len)?));
        raw = &rest[len..];
    }
    Some(out)
}

/// Parses an `XREAD`/`XREADGROUP` reply into `(stream key, entries)` pairs (a RESP2 array of
/// pairs or a RESP3 map).
pub(crate) fn parse_read(reply: Reply) -> Vec<(String, Vec<Entry>)> {
    let pairs = match reply {
        Reply::Map(pairs) => pairs,
        Reply::Array(items) => items
            .into_iter()
            .filter_map(|pair| {
                let mut it = pair.into_items().into_iter();
                Some((it.next()?, it.next()?))
            })
            .collect(),
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), Entry::parse_list(v))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_round_trip_and_refuse_garbage() {
        let items: [&[u8]; 3] = [b"1", b"\"a:b\"", b""];
        let raw = bundle(items);
        let back = unbundle(&raw).expect("a bundle we wrote decodes");
        assert_eq!(back.iter().map(|p| &p[..]).collect::<Vec<_>>(), items);
        for bad in [&b"5:abc"[..], b"x:1", b"12", b"-1:a"] {
            assert_eq!(unbundle(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
