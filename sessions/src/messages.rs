//! Flash messages (Django's messages framework), kept in the session.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Session};

/// The session key messages are kept under.
const KEY: &str = "_messages";

/// How important a message is; also a CSS class name via [`Level::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Development details.
    Debug,
    /// Information for the user.
    Info,
    /// An action succeeded.
    Success,
    /// Something the user should look at.
    Warning,
    /// An action failed.
    Error,
}

impl Level {
    /// `debug`, `info`, `success`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message for the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its level.
    pub level: Level,
    /// Its text.
    pub text: String,
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The current request's flash messages, from the request's extensions.
///
/// A handler adds a message before redirecting; the next page that shows
/// messages takes them, and they are gone (read once).
///
/// ```
/// use tack_sessions::{Level, Messages, Session};
///
/// let messages = Messages::new(Session::new());
/// messages.success("Article saved.").unwrap();
/// let shown = messages.take().unwrap();
/// assert_eq!(shown[0].level, Level::Success);
/// assert!(messages.take().unwrap().is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Messages {
    session: Session,
}

impl Messages {
    /// The messages kept in this session.
    pub fn new(session: Session) -> Self {
        Messages { session }
    }

    /// Adds a message.
    pub fn add(&self, level: Level, text: impl Into<String>) -> Result<(), Error> {
        let mut list: Vec<Message> = self.session.get(KEY)?.unwrap_or_default();
        list.push(Message {
            level,
            text: text.into(),
        });
        self.session.insert(KEY, list)
    }

    /// Adds a debug message.
    pub fn debug(&self, text: impl Into<String>) -> Result<(), Error> {
        self.add(Level::Debug, text)
    }

    /// Adds an info message.
    pub fn info(&self, text: impl Into<String>) -> Result<(), Error> {
        self.add(Level::Info, text)
    }

    /// Adds a success message.
    pub fn success(&self, text: impl Into<String>) -> Result<(), Error> {
        self.add(Level::Success, text)
    }

    /// Adds a warning.
    pub fn warning(&self, text: impl Into<String>) -> Result<(), Error> {
        self.add(Level::Warning, text)
    }

    /// Adds an error message.
    pub fn error(&self, text: impl Into<String>) -> Result<(), Error> {
        self.add(Level::Error, text)
    }

    /// The pending messages, removed from the session (read once).
    pub fn take(&self) -> Result<Vec<Message>, Error> {
        Ok(self.session.remove(KEY)?.unwrap_or_default())
    }

    /// The pending messages, left in place.
    pub fn peek(&self) -> Result<Vec<Message>, Error> {
        Ok(self.session.get(KEY)?.unwrap_or_default())
    }
}
