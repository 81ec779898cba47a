//! Finding the CSRF token in a multipart body without holding the uploads
//! in memory: the parts before the token are read (and kept), the rest of
//! the body is handed on unread.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body::{Body as HttpBody, Frame};
use http_body_util::{BodyExt, StreamBody};
use tack_http::Body;

use crate::{BoxError, Error};

/// The body as read so far, shared between the parser and the caller.
struct Shared {
    body: Option<Body>,
    seen: Vec<Bytes>,
    read: usize,
}

/// A stream over the body that remembers every chunk it hands the parser.
struct Tee {
    shared: Arc<Mutex<Shared>>,
    limit: usize,
}

impl Stream for Tee {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let shared = &mut *shared;
        let Some(body) = shared.body.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            return match Pin::new(&mut *body).poll_frame(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        shared.read += data.len();
                        if shared.read > self.limit {
                            return Poll::Ready(Some(Err(Box::new(TooLarge))));
                        }
                        shared.seen.push(data.clone());
                        Poll::Ready(Some(Ok(data)))
                    }
                    // Trailers carry no form data.
                    Err(_) => continue,
                },
            };
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the multipart body is larger than the limit")]
struct TooLarge;

/// The token sent in the `field` part of a multipart body, and the whole
/// body to hand on. Reads only as far as that part (at most `limit` bytes).
pub(crate) async fn token(
    content_type: &str,
    body: Body,
    field: &str,
    limit: usize,
) -> Result<(String, Body), Error> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| Error::CsrfTokenMissing)?;
    let shared = Arc::new(Mutex::new(Shared {
        body: Some(body),
        seen: Vec::new(),
        read: 0,
    }));
    let tee = Tee {
        shared: shared.clone(),
        limit,
    };
    let found = {
        let mut multipart = multer::Multipart::new(tee, boundary);
        let mut found = None;
        loop {
            match multipart.next_field().await {
                Ok(Some(part)) if part.name() == Some(field) && part.file_name().is_none() => {
                    found = Some(part.text().await.map_err(|e| read_error(e, limit))?);
                    break;
                }
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(error) => return Err(read_error(error, limit)),
            }
        }
        found
    };
    let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
    let token = found.ok_or(Error::CsrfTokenMissing)?;
    let seen = std::mem::take(&mut shared.seen);
    let rest = shared.body.take();
    let head =
        futures_util::stream::iter(seen.into_iter().map(|b| Ok::<_, BoxError>(Frame::data(b))));
    let body = match rest {
        Some(rest) => Body::new(StreamBody::new(
            head.chain(rest.into_data_stream().map(|r| r.map(Frame::data))),
        )),
        None => Body::new(StreamBody::new(head)),
    };
    Ok((token, body))
}

fn read_error(error: multer::Error, limit: usize) -> Error {
    let too_large = match &error {
        multer::Error::StreamReadFailed(source) => source.is::<TooLarge>(),
        _ => false,
    };
    if too_large {
        Error::BodyTooLarge { limit }
    } else {
        Error::Body(Box::new(error))
    }
}
