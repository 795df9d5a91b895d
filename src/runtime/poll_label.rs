//! A label for the poll in progress: code that runs many units of work inside one task poll
//! (the flow scheduler polls node bodies) names the unit that made the poll slow, and the
//! slow-poll warning names it instead of only the task. Crate-internal; one thread-local.

use std::cell::RefCell;

thread_local! {
    static LABEL: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Names what made the current poll slow (the first label set in a poll wins).
pub(crate) fn set(label: impl FnOnce() -> String) {
    LABEL.with(|l| {
        let mut l = l.borrow_mut();
        if l.is_none() {
            *l = Some(label());
        }
    });
}

/// Takes the label of the poll that just ended (the loop calls this after every timed poll).
pub(crate) fn take() -> Option<String> {
    LABEL.with(|l| l.borrow_mut().take())
}
