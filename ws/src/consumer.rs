//! What an app writes: a consumer reacting to one connection's events.

use tack_http::Problem;

use crate::{CloseCode, Connection};

/// The code behind one websocket connection, like a Django Channels consumer.
///
/// An endpoint makes one consumer per connection. Every method has a default,
/// so a consumer implements only what it reacts to. Methods run on the
/// connection's task: keep them short, and hand slow work (a database query)
/// to a thread or task that answers through a clone of the [`Connection`].
pub trait Consumer: Send + 'static {
    /// Called before the handshake is answered, with the upgrade request's
    /// parts: path, headers, and the extensions that layers and routers put
    /// there (session, current user, path parameters). Return an error to
    /// refuse the connection with its status (403 for
    /// [`Problem::forbidden`]). Messages sent here are delivered once the
    /// connection is open; groups may be joined here.
    // Runs once per connection, off the hot path; `Problem` is the workspace's error vocabulary.
    #[allow(clippy::result_large_err)]
    fn connect(
        &mut self,
        connection: &Connection,
        request: &http::request::Parts,
    ) -> Result<(), Problem> {
        let _ = (connection, request);
        Ok(())
    }

    /// A text message arrived.
    fn text(&mut self, connection: &Connection, text: &str) {
        let _ = (connection, text);
    }

    /// A binary message arrived.
    fn binary(&mut self, connection: &Connection, bytes: &[u8]) {
        let _ = (connection, bytes);
    }

    /// The connection ended, with the close code sent or received
    /// (1006 `Abnormal` when the socket dropped without a close frame).
    /// Groups are left already.
    fn disconnect(&mut self, connection: &Connection, code: CloseCode) {
        let _ = (connection, code);
    }
}
