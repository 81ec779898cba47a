//! Who may do what: one check per action, given the request.

use http::request::Parts;

/// One of the five things the controller does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// `GET /`.
    List,
    /// `GET /{pk}/`.
    Retrieve,
    /// `POST /`.
    Create,
    /// `PUT /{pk}/` and `PATCH /{pk}/`.
    Update,
    /// `DELETE /{pk}/`.
    Delete,
}

impl Action {
    /// Whether the action only reads.
    pub fn is_read(self) -> bool {
        matches!(self, Action::List | Action::Retrieve)
    }

    /// The lowercase verb (`"list"`, `"create"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Retrieve => "retrieve",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Decides whether a request may perform an action; checked before the
/// database is touched. Closures `Fn(Action, &Parts) -> bool` implement it.
///
/// The request's extensions carry what the layers in front found (the
/// session, the signed-in user), so an auth crate implements this with
/// model permissions.
pub trait Permission: Send + Sync + 'static {
    /// Whether `parts` may perform `action`.
    fn allows(&self, action: Action, parts: &Parts) -> bool;
}

impl<F> Permission for F
where
    F: Fn(Action, &Parts) -> bool + Send + Sync + 'static,
{
    fn allows(&self, action: Action, parts: &Parts) -> bool {
        self(action, parts)
    }
}

/// The default: anyone may list and retrieve; nobody may write.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOnly;

impl Permission for ReadOnly {
    fn allows(&self, action: Action, _parts: &Parts) -> bool {
        action.is_read()
    }
}

/// Anyone may do anything (for tests, or behind a layer that already checked).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Permission for AllowAll {
    fn allows(&self, _action: Action, _parts: &Parts) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_allows_reads_only() {
        let (parts, ()) = http::Request::new(()).into_parts();
        let cases = [
            (Action::List, true),
            (Action::Retrieve, true),
            (Action::Create, false),
            (Action::Update, false),
            (Action::Delete, false),
        ];
        for (action, allowed) in cases {
            assert_eq!(ReadOnly.allows(action, &parts), allowed, "{action}");
            assert!(AllowAll.allows(action, &parts));
        }
        let staff_only = |action: Action, parts: &Parts| {
            action.is_read() || parts.headers.contains_key("x-staff")
        };
        assert!(!staff_only.allows(Action::Delete, &parts));
    }
}
