//! [`Registry`]: every kind a graph may use, grouped in shelves (namespaces), and listed as
//! JSON for editors and the CLI.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::kind::Kind;

/// A named group of kinds (`math`, `flow`, or a third-party `acme.vision`). Every kind's name
/// starts with the shelf's name and a dot.
///
/// ```
/// use flowloop_graph::{Registry, Shelf};
/// use flowloop_graph::kind::{FnKind, KindSpec, PortSpec, ready};
/// use flowloop_graph::{Type, Value};
/// use flowloop::flow::Outputs;
///
/// let shout = FnKind::new(
///     KindSpec::new("acme.shout").doc("Upper-cases text.").input(PortSpec::new("text", Type::Str)).output("out", Type::Str),
///     |mut inputs| match inputs.take::<String>(0) {
///         Ok(t) => ready(Ok(Outputs::One(Value::from(t.to_uppercase())))),
///         Err(e) => ready(Err(e.into())),
///     },
/// );
/// let mut reg = Registry::new();
/// reg.register(Shelf::new("acme", "Acme's kinds").with(shout)).unwrap();
/// assert!(reg.get("acme.shout").is_some());
/// ```
#[derive(Clone)]
pub struct Shelf {
    name: String,
    doc: String,
    kinds: Vec<Arc<dyn Kind>>,
}

impl fmt::Debug for Shelf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shelf")
            .field("name", &self.name)
            .field("kinds", &self.kinds.len())
            .finish()
    }
}

impl Shelf {
    /// An empty shelf.
    pub fn new(name: &str, doc: &str) -> Shelf {
        Shelf {
            name: name.to_string(),
            doc: doc.to_string(),
            kinds: Vec::new(),
        }
    }

    /// Adds a kind.
    pub fn with(mut self, kind: impl Kind) -> Shelf {
        self.kinds.push(Arc::new(kind));
        self
    }

    /// Adds a shared kind.
    pub fn with_arc(mut self, kind: Arc<dyn Kind>) -> Shelf {
        self.kinds.push(kind);
        self
    }

    /// The shelf's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Why a shelf could not be registered; nothing of the shelf is registered then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two kinds with one name.
    #[error("kind `{name}` is already registered (pick another name or shelf)")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// A kind's name does not start with its shelf's name.
    #[error("kind `{name}` is not in shelf `{shelf}` (its name must start with `{shelf}.`)")]
    WrongShelf {
        /// The kind.
        name: String,
        /// The shelf.
        shelf: String,
    },
    /// A name that is empty or has characters other than letters, digits, `_`, `-` and `.`.
    #[error("`{name}` is not a valid name (letters, digits, `_`, `-`, separated by `.`)")]
    BadName {
        /// The name.
        name: String,
    },
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
}

/// Every kind a graph may use, by full name. Cheap to clone (kinds are shared).
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<String, Arc<dyn Kind>>,
    shelves: BTreeMap<String, String>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("shelves", &self.shelves.keys().collect::<Vec<_>>())
            .field("kinds", &self.kinds.len())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// A registry with the standard shelves of this crate ([`crate::std`]).
    pub fn with_std() -> Registry {
        let mut reg = Registry::new();
        for shelf in crate::std::shelves() {
            reg.register(shelf)
                .expect("the standard shelves have distinct, valid names");
        }
        reg
    }

    /// Adds every kind of `shelf`; all or nothing.
    ///
    /// # Errors
    /// [`RegistryError`] naming the first kind that is a duplicate, outside the shelf's
    /// namespace, or badly named.
    pub fn register(&mut self, shelf: Shelf) -> Result<(), RegistryError> {
        if !valid_name(&shelf.name) {
            return Err(RegistryError::BadName { name: shelf.name });
        }
        let mut seen = std::collections::BTreeSet::new();
        for kind in &shelf.kinds {
            let name = &kind.spec().name;
            if !valid_name(name) {
                return Err(RegistryError::BadName { name: name.clone() });
            }
            if kind.spec().shelf() != shelf.name {
                return Err(RegistryError::WrongShelf {
                    name: name.clone(),
                    shelf: shelf.name.clone(),
                });
            }
            if self.kinds.contains_key(name) || !seen.insert(name.clone()) {
                return Err(RegistryError::Duplicate { name: name.clone() });
            }
        }
        for kind in shelf.kinds {
            self.kinds.insert(kind.spec().name.clone(), kind);
        }
        self.shelves.insert(shelf.name, shelf.doc);
        Ok(())
    }

    /// Adds one kind to an existing or new shelf named after its prefix (composites use this).
    ///
    /// # Errors
    /// As [`register`](Registry::register).
    pub fn register_kind(&mut self, kind: Arc<dyn Kind>) -> Result<(), RegistryError> {
        let shelf = kind.spec().shelf().to_string();
        let doc = self.shelves.get(&shelf).cloned().unwrap_or_default();
        self.register(Shelf::new(&shelf, &doc).with_arc(kind))
    }

    /// The kind named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Kind>> {
        self.kinds.get(name)
    }

    /// Every kind, sorted by name.
    pub fn kinds(&self) -> impl Iterator<Item = &Arc<dyn Kind>> {
        self.kinds.values()
    }

    /// The shelf names, sorted.
    pub fn shelves(&self) -> impl Iterator<Item = &str> {
        self.shelves.keys().map(String::as_str)
    }

    /// The JSON listing: `{"shelves": [{"name", "doc", "kinds": [spec, ...]}, ...]}`, each spec
    /// with `name`, `doc`, `inputs` (`name`, `type`, `default`, `mode`), `outputs` and, for
    /// streaming kinds, `stream` (the chunk type). Sorted by name, so the text is stable.
    pub fn to_json(&self) -> serde_json::Value {
        let shelves: Vec<serde_json::Value> = self
            .shelves
            .iter()
            .map(|(name, doc)| {
                let kinds: Vec<serde_json::Value> = self
                    .kinds
                    .values()
                    .filter(|k| k.spec().shelf() == name)
                    .map(|k| k.spec().to_json())
                    .collect();
                serde_json::json!({ "name": name, "doc": doc, "kinds": kinds })
            })
            .collect();
        serde_json::json!({ "shelves": shelves })
    }
}
