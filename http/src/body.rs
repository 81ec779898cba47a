//! The one response body type.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};

/// A type-erased error, as tower and hyper use.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response a Tack battery produces.
///
/// It wraps any [`http_body::Body`] whose data is [`Bytes`], so a service can
/// answer a full buffer, a stream or nothing with one response type.
/// It is `Send` but not `Sync`, like hyper's incoming body.
pub struct Body(UnsyncBoxBody<Bytes, BoxError>);

impl Body {
    /// Boxes any body whose chunks are [`Bytes`].
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body(body.map_err(Into::into).boxed_unsync())
    }

    /// A body with no bytes.
    pub fn empty() -> Self {
        Body::new(Empty::<Bytes>::new())
    }
}

/// A request body type that a layer which reads the body (the CSRF layer
/// reads forms for their token) can hand on rebuilt: tack's [`Body`], and
/// with the `axum` feature axum's.
pub trait RequestBody: http_body::Body<Data = Bytes> + Send + 'static {
    /// The body again, from what the layer read and what it did not.
    fn from_body(body: Body) -> Self;
}

impl RequestBody for Body {
    fn from_body(body: Body) -> Self {
        body
    }
}

#[cfg(feature = "axum")]
impl RequestBody for axum_core::body::Body {
    fn from_body(body: Body) -> Self {
        axum_core::body::Body::new(body)
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").finish_non_exhaustive()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::new(Full::new(bytes))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from(Bytes::from(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from(Bytes::from(text))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::from(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(bytes))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    fn collect(body: Body) -> Bytes {
        futures_executor::block_on(body.collect())
            .unwrap()
            .to_bytes()
    }

    #[test]
    fn conversions_keep_bytes_and_size() {
        let body = Body::from("hello");
        assert_eq!(body.size_hint().exact(), Some(5));
        assert_eq!(collect(body), "hello");
        assert_eq!(collect(Body::from(vec![1, 2, 3])), &[1u8, 2, 3][..]);
        assert_eq!(collect(Body::from(String::from("s"))), "s");
    }

    #[test]
    fn empty_is_end_of_stream() {
        let body = Body::empty();
        assert!(body.is_end_stream());
        assert!(collect(body).is_empty());
    }
}
