//! Tack's websocket consumers under actix-ws (feature `ws`).

use actix_web::{HttpRequest, HttpResponse, web};
use tack_ws::{Attached, CloseCode, Consumer, Outgoing, WsConfig};

/// Upgrades `request` with actix-ws and runs `consumer` on the connection,
/// on this worker: the consumer's `connect` sees the request (and may
/// refuse it, answered as its problem instead of the upgrade), messages go
/// to its `text` and `binary`, and whatever it, its groups or a channel
/// layer sends reaches the client. Messages larger than `config`'s limit
/// close the connection with 1009.
///
/// ```no_run
/// use actix_web::{HttpRequest, web};
/// use tack_ws::{Connection, Consumer, Groups, WsConfig};
///
/// struct Room(Groups);
/// impl Consumer for Room {
///     fn connect(&mut self, connection: &Connection, _: &http::request::Parts) -> Result<(), tack_http::Problem> {
///         self.0.join("lobby", connection).map_err(|e| e.to_problem())
///     }
/// }
///
/// async fn socket(request: HttpRequest, body: web::Payload, groups: web::Data<Groups>) -> actix_web::HttpResponse {
///     tack_actix::websocket(&request, body, Room(groups.get_ref().clone()), &WsConfig::new())
/// }
/// ```
pub fn websocket<C: Consumer>(
    request: &HttpRequest,
    body: web::Payload,
    consumer: C,
    config: &WsConfig,
) -> HttpResponse {
    let parts = match crate::request_parts(request) {
        Ok(parts) => parts,
        Err(reason) => return HttpResponse::BadRequest().body(reason),
    };
    let (response, mut session, stream) = match actix_ws::handle(request, body) {
        Ok(upgrade) => upgrade,
        Err(error) => return error.error_response(),
    };
    let mut attached = match Attached::connect(consumer, &parts, config) {
        Ok(attached) => attached,
        Err(problem) => {
            return crate::response(tack_http::IntoResponse::into_response(problem));
        }
    };
    let mut stream = stream
        .max_frame_size(config.max_message_size())
        .aggregate_continuations()
        .max_continuation_size(config.max_message_size());
    actix_web::rt::spawn(async move {
        let code = loop {
            // Whichever comes first; the other is dropped (both are
            // cancel-safe: what was taken waits in their buffers).
            let next = match futures_util::future::select(
                std::pin::pin!(stream.recv()),
                std::pin::pin!(attached.next_outgoing()),
            )
            .await
            {
                futures_util::future::Either::Left((received, _)) => Event::Received(received),
                futures_util::future::Either::Right((outgoing, _)) => Event::Outgoing(outgoing),
            };
            match next {
                Event::Received(received) => match received {
                    Some(Ok(actix_ws::AggregatedMessage::Text(text))) => attached.text(&text),
                    Some(Ok(actix_ws::AggregatedMessage::Binary(bytes))) => attached.binary(&bytes),
                    Some(Ok(actix_ws::AggregatedMessage::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            break CloseCode::Abnormal;
                        }
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Pong(_))) => {}
                    Some(Ok(actix_ws::AggregatedMessage::Close(reason))) => {
                        let code = reason.as_ref().map_or(1005, |r| u16::from(r.code));
                        let _ = session.close(reason).await;
                        break CloseCode::from(code);
                    }
                    Some(Err(error)) => {
                        let too_big = matches!(error, actix_ws::ProtocolError::Overflow);
                        let code = if too_big { 1009 } else { 1002 };
                        let _ = session
                            .close(Some(actix_ws::CloseReason {
                                code: actix_ws::CloseCode::from(code),
                                description: Some(error.to_string()),
                            }))
                            .await;
                        break CloseCode::from(code);
                    }
                    None => break CloseCode::Abnormal,
                },
                Event::Outgoing(outgoing) => {
                    let sent = match outgoing {
                        Some(Outgoing::Message(tack_ws::Message::Text(text))) => {
                            session.text(text.as_str().to_owned()).await
                        }
                        Some(Outgoing::Message(tack_ws::Message::Binary(bytes))) => {
                            session.binary(bytes).await
                        }
                        Some(Outgoing::Ping(bytes)) => session.ping(&bytes).await,
                        Some(Outgoing::Close(code, reason)) => {
                            let _ = session
                                .close(Some(actix_ws::CloseReason {
                                    code: actix_ws::CloseCode::from(u16::from(code)),
                                    description: Some(reason),
                                }))
                                .await;
                            break code;
                        }
                        None => break CloseCode::Normal,
                    };
                    if sent.is_err() {
                        break CloseCode::Abnormal;
                    }
                }
            }
        };
        attached.closed(code);
    });
    response
}

enum Event {
    Received(Option<Result<actix_ws::AggregatedMessage, actix_ws::ProtocolError>>),
    Outgoing(Option<Outgoing>),
}
