//! Stream entries as this crate writes them: `d=<json>` or the end marker `eos=<producer>`.

use std::rc::Rc;

use crate::resp::Reply;

/// What one stream entry carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// A JSON payload.
    Data(Rc<[u8]>),
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
