//! The wire form shared by the channel layers that cross processes: one
//! broadcast as a small JSON object, `{"g": group, "t": text}` or
//! `{"g": group, "b": base64}`, or (PostgreSQL only) `{"r": id}`, the row
//! holding a broadcast too big for a NOTIFY payload.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::{Error, Message};

#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    /// The group.
    #[serde(default, borrow)]
    g: Cow<'a, str>,
    /// The id of a stored envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<i64>,
    /// Text payload.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    t: Option<Cow<'a, str>>,
    /// Binary payload, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<String>,
}

/// What a received payload holds.
#[derive(Debug, PartialEq)]
pub(crate) enum Received {
    /// A broadcast to a group.
    Broadcast(String, Message),
    /// The id of a stored broadcast, to be read and decoded.
    Stored(i64),
    /// Not a broadcast (logged and ignored by the layers).
    Foreign,
}

/// Encodes a broadcast of `message` to `group`.
pub(crate) fn encode(group: &str, message: &Message) -> Result<String, Error> {
    let (t, b) = match message {
        Message::Text(text) => (Some(text.as_str().into()), None),
        Message::Binary(bytes) => (None, Some(STANDARD.encode(bytes))),
    };
    let envelope = Envelope {
        g: group.into(),
        r: None,
        t,
        b,
    };
    Ok(serde_json::to_string(&envelope)?)
}

/// The reference to the stored broadcast `id`.
#[cfg(feature = "postgres")]
pub(crate) fn encode_stored(id: i64) -> String {
    format!("{{\"r\":{id}}}")
}

/// Decodes a payload made by [`encode`] or [`encode_stored`].
pub(crate) fn decode(payload: &[u8]) -> Received {
    let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(payload) else {
        return Received::Foreign;
    };
    if let Some(id) = envelope.r {
        return Received::Stored(id);
    }
    let message = match (envelope.t, envelope.b) {
        (Some(text), _) => Message::text(text.into_owned()),
        (None, Some(b64)) => match STANDARD.decode(b64) {
            Ok(bytes) => Message::binary(bytes),
            Err(_) => return Received::Foreign,
        },
        (None, None) => return Received::Foreign,
    };
    Received::Broadcast(envelope.g.into_owned(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_round_trip() {
        for message in [
            Message::text("é \"quoted\""),
            Message::binary(vec![0, 255, 7]),
        ] {
            let payload = encode("article-1", &message).unwrap();
            assert_eq!(
                decode(payload.as_bytes()),
                Received::Broadcast("article-1".into(), message)
            );
        }
    }

    #[test]
    fn other_payloads_are_not_broadcasts() {
        for payload in [&b"hello"[..], b"{}", b"{\"g\":\"x\",\"b\":\"!!\"}", b"\xff"] {
            assert_eq!(decode(payload), Received::Foreign, "{payload:?}");
        }
    }
}
