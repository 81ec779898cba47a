//! The `tower::Service`: routing by path and method, permissions, and the
//! five actions, each running its database work in one job on the
//! [`tack_orm::AsyncDatabase`] (writes in one transaction).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use http::request::Parts;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use tack_http::{Body, BoxError, IntoResponse, Response};
use tack_orm::{Connection, Instance, Model, ModelExt, QuerySet, ToValue, ValidationErrors, Value};

use crate::crud::{Config, Crud};
use crate::error::Error;
use crate::json::{self, Mode};
use crate::permission::Action;
use crate::query::{self, PageRequest};

const COLLECTION_ALLOW: &str = "GET, HEAD, POST";
const ITEM_ALLOW: &str = "GET, HEAD, PUT, PATCH, DELETE";

/// The future a [`Crud`] answers with.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<M, B> tower_service::Service<Request<B>> for Crud<M>
where
    M: Model,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let crud = self.clone();
        Box::pin(async move {
            let head = request.method() == Method::HEAD;
            let mut response = match crud.handle(request).await {
                Ok(response) => response,
                Err(error) => error.into_response(),
            };
            if head {
                *response.body_mut() = Body::empty();
            }
            Ok(response)
        })
    }
}

/// What the worker thread hands back: a status, a JSON body and maybe a
/// `Location`.
struct Answer {
    status: StatusCode,
    body: Option<Vec<u8>>,
    location: Option<String>,
}

impl Answer {
    fn into_response(self) -> Response {
        let json = self.body.is_some();
        let mut response = http::Response::new(match self.body {
            Some(bytes) => Body::from(bytes),
            None => Body::empty(),
        });
        *response.status_mut() = self.status;
        if json {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(location) = self.location.and_then(|l| HeaderValue::try_from(l).ok()) {
            response.headers_mut().insert(LOCATION, location);
        }
        response
    }
}

enum Target {
    Collection,
    Item(String),
}

impl<M: Model> Crud<M> {
    fn target(&self, path: &str) -> Result<Target, Error> {
        let mut rest = path;
        if let Some(base) = &self.config.base_path
            && let Some(stripped) = rest.strip_prefix(base.trim_end_matches('/'))
        {
            rest = stripped;
        }
        let trimmed = rest.trim_matches('/');
        if trimmed.is_empty() {
            return Ok(Target::Collection);
        }
        if trimmed.contains('/') {
            return Err(Error::NoRoute {
                path: path.to_owned(),
            });
        }
        let pk = percent_decode(trimmed);
        Ok(Target::Item(pk))
    }

    fn check(&self, action: Action, parts: &Parts) -> Result<(), Error> {
        if self.config.permission.allows(action, parts) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                action,
                model: M::meta().name,
            })
        }
    }

    async fn handle<B>(&self, request: Request<B>) -> Result<Response, Error>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let target = self.target(parts.uri.path())?;
        let method = parts.method.clone();
        let action = match (&target, &method) {
            (Target::Collection, &Method::GET | &Method::HEAD) => Action::List,
            (Target::Collection, &Method::POST) => Action::Create,
            (Target::Item(_), &Method::GET | &Method::HEAD) => Action::Retrieve,
            (Target::Item(_), &Method::PUT | &Method::PATCH) => Action::Update,
            (Target::Item(_), &Method::DELETE) => Action::Delete,
            (Target::Collection, _) => {
                return Err(Error::MethodNotAllowed {
                    method,
                    allow: COLLECTION_ALLOW,
                });
            }
            (Target::Item(_), _) => {
                return Err(Error::MethodNotAllowed {
                    method,
                    allow: ITEM_ALLOW,
                });
            }
        };
        self.check(action, &parts)?;
        let body = match action {
            Action::Create | Action::Update => Some(self.read_body(&parts, body).await?),
            _ => None,
        };
        let pk = match target {
            Target::Item(pk) => Some(self.parse_pk(pk)?),
            Target::Collection => None,
        };
        let parts = Arc::new(parts);
        let config = self.config.clone();
        let answer = self
            .db
            .run(move |db| {
                let conn = db.connection()?;
                let conn: &Connection = &conn;
                Ok(match (action, pk, body) {
                    (Action::List, _, _) => list::<M>(&config, &parts, conn),
                    (Action::Retrieve, Some(pk), _) => retrieve::<M>(&config, &parts, conn, pk),
                    (Action::Create, _, Some(body)) => create::<M>(&config, &parts, conn, body),
                    (Action::Update, Some(pk), Some(body)) => {
                        let mode = if parts.method == Method::PATCH {
                            Mode::Patch
                        } else {
                            Mode::Replace
                        };
                        update::<M>(&config, &parts, conn, pk, body, mode)
                    }
                    (Action::Delete, Some(pk), _) => delete::<M>(&config, &parts, conn, pk),
                    _ => Err(Error::NoRoute {
                        path: parts.uri.path().to_owned(),
                    }),
                })
            })
            .await??;
        Ok(answer.into_response())
    }

    fn parse_pk(&self, text: String) -> Result<Value, Error> {
        let field = M::meta().pk_field();
        Value::Text(text.clone())
            .coerce(field.kind)
            .map_err(|_| Error::NotFound {
                model: M::meta().name,
                pk_name: field.name,
                pk: text,
            })
    }

    async fn read_body<B>(
        &self,
        parts: &Parts,
        body: B,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Error>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(Error::UnsupportedMediaType {
                content_type: content_type.to_owned(),
            });
        }
        let limit = self.config.body_limit;
        let bytes: Bytes = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => {
                return Err(
                    if error
                        .downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        Error::PayloadTooLarge { limit }
                    } else {
                        Error::MalformedJson {
                            message: format!("the body could not be read: {error}"),
                        }
                    },
                );
            }
        };
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(other) => Err(Error::MalformedJson {
                message: format!("expected a JSON object, found {}", kind_of(&other)),
            }),
            Err(error) => Err(Error::MalformedJson {
                message: error.to_string(),
            }),
        }
    }
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn scoped<M: Model>(config: &Config<M>, parts: &Parts) -> QuerySet<M> {
    match &config.scope {
        Some(scope) => scope(parts, M::objects()),
        None => M::objects(),
    }
}

fn base<M: Model>(config: &Config<M>, parts: &Parts) -> String {
    match &config.base_path {
        Some(base) => base.clone(),
        None => {
            let path = parts.uri.path();
            let mut base = path.trim_end_matches('/').to_owned();
            base.push('/');
            base
        }
    }
}

fn not_found<M: Model>(pk: &Value) -> Error {
    Error::NotFound {
        model: M::meta().name,
        pk_name: M::meta().pk_field().name,
        pk: pk.to_string(),
    }
}

/// The object with primary key `pk` inside the scope.
pub(crate) fn fetch<M: Model>(
    config: &Config<M>,
    parts: &Parts,
    conn: &Connection,
    pk: &Value,
) -> Result<M, Error> {
    let found = match &config.scope {
        None => M::find(conn, M::Pk::from_value_checked(pk)?),
        Some(_) => scoped(config, parts)
            .filter_by_name(M::meta().pk_field().name, pk.clone())?
            .one(conn),
    };
    found.map_err(|error| match error {
        tack_orm::Error::NotFound { .. } => not_found::<M>(pk),
        other => Error::Database(other),
    })
}

trait FromValueChecked: Sized {
    fn from_value_checked(value: &Value) -> Result<Self, Error>;
}

impl<T: tack_orm::FromValue> FromValueChecked for T {
    fn from_value_checked(value: &Value) -> Result<Self, Error> {
        T::from_value(value.clone()).map_err(|error| {
            Error::Database(tack_orm::Error::InvalidValue {
                field: "pk".into(),
                message: error.to_string(),
            })
        })
    }
}

struct Page<'a> {
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<json::Object<'a>>,
}

struct Results<'a>(&'a [json::Object<'a>]);

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for object in self.0 {
            seq.serialize_element(object)?;
        }
        seq.end()
    }
}

impl Serialize for Page<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("count", &self.count)?;
        map.serialize_entry("next", &self.next)?;
        map.serialize_entry("previous", &self.previous)?;
        map.serialize_entry("results", &Results(&self.results))?;
        map.end()
    }
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|error| {
        Error::Database(tack_orm::Error::Query(format!(
            "could not serialize the answer: {error}"
        )))
    })
}

fn list<M: Model>(config: &Config<M>, parts: &Parts, conn: &Connection) -> Result<Answer, Error> {
    let (qs, PageRequest { page, size, pairs }) =
        query::list_query(config, parts.uri.query(), scoped(config, parts))?;
    let count = qs.count(conn)?;
    let pages = count.div_ceil(size).max(1);
    if page > pages {
        return Err(Error::PageOutOfRange { page, pages });
    }
    let models = qs.offset((page - 1) * size).limit(size).all(conn)?;
    let rows: Vec<Vec<Value>> = models.iter().map(Model::to_values).collect();
    let loaded = json::load::<M>(conn, &config.readable, &rows)?;
    let base = base(config, parts);
    let body = Page {
        count,
        next: (page < pages).then(|| query::page_link(&base, &pairs, page + 1)),
        previous: (page > 1).then(|| query::page_link(&base, &pairs, page - 1)),
        results: json::objects(&config.readable, &rows, &loaded).collect(),
    };
    Ok(Answer {
        status: StatusCode::OK,
        body: Some(to_json(&body)?),
        location: None,
    })
}

fn render<M: Model>(config: &Config<M>, conn: &Connection, model: &M) -> Result<Vec<u8>, Error> {
    let rows = vec![model.to_values()];
    let loaded = json::load::<M>(conn, &config.readable, &rows)?;
    let object = json::objects(&config.readable, &rows, &loaded)
        .next()
        .ok_or_else(|| tack_orm::Error::Query("no object to render".into()))?;
    to_json(&object)
}

fn retrieve<M: Model>(
    config: &Config<M>,
    parts: &Parts,
    conn: &Connection,
    pk: Value,
) -> Result<Answer, Error> {
    let model = fetch(config, parts, conn, &pk)?;
    Ok(Answer {
        status: StatusCode::OK,
        body: Some(render(config, conn, &model)?),
        location: None,
    })
}

/// Foreign keys and many-to-many ids must name rows; unique fields must
/// be free. Runs inside the write's transaction, before the write.
fn check_references<M: Model>(
    conn: &Connection,
    model: &M,
    changes: &json::Changes,
    creating: bool,
) -> Result<(), Error> {
    let meta = M::meta();
    let mut errors = ValidationErrors::new();
    for (field, id) in &changes.foreign_keys {
        if let Some(relation) = field.relation {
            let target = (relation.target)();
            for missing in target.handle().missing(conn, std::slice::from_ref(id))? {
                errors.add(field.name, format!("no {} with id {missing}", target.name));
            }
        }
    }
    for (m2m, ids) in &changes.many {
        let target = (m2m.target)();
        for missing in target.handle().missing(conn, ids)? {
            errors.add(m2m.name, format!("no {} with id {missing}", target.name));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid {
            model: meta.name,
            errors,
        });
    }
    let conflicts = meta
        .handle()
        .unique_conflicts(conn, &Instance::of(model), creating)?;
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(Error::Conflict {
            message: format!("{} must be unique", names(&conflicts)),
            errors: conflicts,
        })
    }
}

fn names(errors: &ValidationErrors) -> String {
    errors
        .fields()
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns database refusals into answers that name the field.
fn write_error<M: Model>(error: tack_orm::Error) -> Error {
    match error {
        tack_orm::Error::Validation { model, errors } => Error::Invalid { model, errors },
        tack_orm::Error::UniqueViolation { constraint, .. } => {
            let meta = M::meta();
            let fields = meta.unique_violation_fields(&constraint);
            let mut errors = ValidationErrors::new();
            let message = meta.unique_message(&fields);
            for field in &fields {
                errors.add(field.name, message.clone());
            }
            Error::Conflict {
                message: format!("unique constraint {constraint} refused the write"),
                errors,
            }
        }
        tack_orm::Error::Integrity { message, .. } => Error::Conflict {
            message,
            errors: ValidationErrors::new(),
        },
        other => Error::Database(other),
    }
}

fn save<M: Model>(
    config: &Config<M>,
    parts: &Parts,
    tx: &Connection,
    model: &mut M,
    changes: &json::Changes,
    creating: bool,
) -> Result<(), Error> {
    let hooks = if creating {
        &config.hooks.before_create
    } else {
        &config.hooks.before_update
    };
    for hook in hooks {
        hook(parts, tx, model)?;
    }
    model.validate().map_err(|errors| Error::Invalid {
        model: M::meta().name,
        errors,
    })?;
    check_references(tx, model, changes, creating)?;
    model.save(tx).map_err(write_error::<M>)?;
    // Answer with what was stored (the database may round date-times).
    model.refresh(tx)?;
    let pk = model.pk().to_value();
    for (m2m, ids) in &changes.many {
        M::meta()
            .handle()
            .set_many_ids(tx, m2m.name, &pk, ids)
            .map_err(write_error::<M>)?;
    }
    Ok(())
}

fn create<M: Model>(
    config: &Config<M>,
    parts: &Parts,
    conn: &Connection,
    body: serde_json::Map<String, serde_json::Value>,
) -> Result<Answer, Error> {
    json::check_keys(config, &body)?;
    let mut model = M::meta().handle().blank().to_model::<M>()?;
    let changes = json::apply(config, &mut model, &body, Mode::Create)?;
    let (model, rendered) = conn.atomic(|tx| {
        save(config, parts, tx, &mut model, &changes, true)?;
        let rendered = render(config, tx, &model)?;
        Ok::<_, Error>((model, rendered))
    })?;
    for hook in &config.hooks.after_create {
        hook(parts, &model);
    }
    let location = format!("{}{}/", base(config, parts), model.pk().to_value());
    Ok(Answer {
        status: StatusCode::CREATED,
        body: Some(rendered),
        location: Some(location),
    })
}

fn update<M: Model>(
    config: &Config<M>,
    parts: &Parts,
    conn: &Connection,
    pk: Value,
    body: serde_json::Map<String, serde_json::Value>,
    mode: Mode,
) -> Result<Answer, Error> {
    json::check_keys(config, &body)?;
    let (model, rendered) = conn.atomic(|tx| {
        let mut model = fetch(config, parts, tx, &pk)?;
        let changes = json::apply(config, &mut model, &body, mode)?;
        save(config, parts, tx, &mut model, &changes, false)?;
        let rendered = render(config, tx, &model)?;
        Ok::<_, Error>((model, rendered))
    })?;
    for hook in &config.hooks.after_update {
        hook(parts, &model);
    }
    Ok(Answer {
        status: StatusCode::OK,
        body: Some(rendered),
        location: None,
    })
}

fn delete<M: Model>(
    config: &Config<M>,
    parts: &Parts,
    conn: &Connection,
    pk: Value,
) -> Result<Answer, Error> {
    let model = conn.atomic(|tx| {
        let model = fetch(config, parts, tx, &pk)?;
        let mut scratch = model.clone();
        for hook in &config.hooks.before_delete {
            hook(parts, tx, &mut scratch)?;
        }
        model.delete(tx).map_err(write_error::<M>)?;
        Ok::<_, Error>(model)
    })?;
    for hook in &config.hooks.after_delete {
        hook(parts, &model);
    }
    Ok(Answer {
        status: StatusCode::NO_CONTENT,
        body: None,
        location: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(tack_orm::Model, Clone, Debug)]
    #[tack(app = "t")]
    struct Slugged {
        id: i64,
        #[tack(unique)]
        slug: String,
    }

    #[test]
    fn unique_violations_name_the_field() {
        // SQLite names `table.column`; PostgreSQL a constraint `table_column_key`.
        for constraint in ["t_slugged.slug", "t_slugged_slug_key"] {
            let error = write_error::<Slugged>(tack_orm::Error::UniqueViolation {
                constraint: constraint.into(),
                source: "duplicate".into(),
            });
            assert_eq!(error.status(), StatusCode::CONFLICT);
            let problem = error.to_problem();
            assert_eq!(
                problem.errors.keys().collect::<Vec<_>>(),
                ["slug"],
                "{constraint}"
            );
        }
    }

    #[test]
    fn keys_in_paths_are_percent_decoded() {
        let cases = [
            ("42", "42"),
            ("a%20b", "a b"),
            ("%E2%9C%93", "✓"),
            ("50%", "50%"),
            ("%zz", "%zz"),
        ];
        for (raw, decoded) in cases {
            assert_eq!(percent_decode(raw), decoded, "{raw}");
        }
    }
}
