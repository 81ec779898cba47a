//! The one error type of this crate.

/// What went wrong while documenting an API. Each message names the route,
/// schema or scheme to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The method is not one OpenAPI documents.
    #[error(
        "the method `{method}` cannot be documented: OpenAPI knows GET, PUT, POST, DELETE, \
         OPTIONS, HEAD, PATCH and TRACE"
    )]
    UnsupportedMethod {
        /// The method given.
        method: String,
    },
    /// A route pattern could not be read.
    #[error("the route pattern `{pattern}` is invalid: {reason}")]
    InvalidPattern {
        /// The pattern given.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An operation's description is inconsistent.
    #[error("the operation {route} is invalid: {reason}")]
    InvalidOperation {
        /// The method and path (`GET /users/{id}/`).
        route: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same method and path were documented twice.
    #[error("the operation {route} is documented twice")]
    DuplicateRoute {
        /// The method and path.
        route: String,
    },
    /// Two paths differ only in their parameter names, which OpenAPI treats
    /// as the same path.
    #[error(
        "the paths `{first}` and `{second}` differ only in parameter names; \
         use the same names in both patterns"
    )]
    AmbiguousPath {
        /// The path documented first.
        first: String,
        /// The path documented second.
        second: String,
    },
    /// Two operations have the same operation id.
    #[error("the operation id `{id}` is used by both {first} and {second}; ids must be unique")]
    DuplicateOperationId {
        /// The id.
        id: String,
        /// The operation that had it first.
        first: String,
        /// The operation that had it second.
        second: String,
    },
    /// Two different schemas have the same name.
    #[error(
        "two different schemas are named `{name}` (the second from {origin}); rename one \
         (`#[schemars(rename = \"...\")]` on a Rust type)"
    )]
    SchemaConflict {
        /// The schema name.
        name: String,
        /// Where the second one came from.
        origin: String,
    },
    /// A schema name OpenAPI does not accept.
    #[error("the schema name `{name}` may only use letters, digits, `.`, `-` and `_`")]
    InvalidSchemaName {
        /// The name given.
        name: String,
    },
    /// A `$ref` names a schema that was never added.
    #[error(
        "{used_by} refers to the schema `{name}`, which was never added; add it with \
         `ApiDoc::schema` or `Operation::schema`"
    )]
    UnknownSchema {
        /// The missing schema's name.
        name: String,
        /// The operation or schema that refers to it.
        used_by: String,
    },
    /// An operation requires a security scheme that was never declared.
    #[error(
        "{used_by} requires the security scheme `{name}`, which was never declared; add it \
         with `ApiDoc::with_security_scheme`"
    )]
    UnknownSecurityScheme {
        /// The scheme's name.
        name: String,
        /// The operation (or the document default) that requires it.
        used_by: String,
    },
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}
