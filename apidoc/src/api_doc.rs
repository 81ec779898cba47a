//! Assembling a document: routes, schemas, security schemes.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde_json::Value;

use crate::openapi::{
    Components, Info, Method, OPENAPI_VERSION, OpenApi, Operation, Parameter, ParameterLocation,
    SecurityRequirement, SecurityScheme, Server, Tag,
};
use crate::{Error, pattern, schema};

/// The documentation of an API being assembled: add routes with
/// [`ApiDoc::route`], then [`ApiDoc::build`] the checked [`OpenApi`] document.
#[derive(Debug, Clone)]
pub struct ApiDoc {
    document: OpenApi,
    /// Path shape (`/users/{}/`) to the path documented with it.
    shapes: BTreeMap<String, String>,
    /// Operation id to the route that uses it.
    operation_ids: BTreeMap<String, String>,
}

impl ApiDoc {
    /// An empty document for the API `title` at `version`.
    pub fn new(title: impl Into<String>, version: impl Into<String>) -> Self {
        ApiDoc {
            document: OpenApi {
                openapi: OPENAPI_VERSION.to_owned(),
                info: Info {
                    title: title.into(),
                    version: version.into(),
                    description: None,
                },
                servers: Vec::new(),
                paths: BTreeMap::new(),
                components: Components::default(),
                security: Vec::new(),
                tags: Vec::new(),
            },
            shapes: BTreeMap::new(),
            operation_ids: BTreeMap::new(),
        }
    }

    /// Sets the API's description.
    pub fn with_description(mut self, text: impl Into<String>) -> Self {
        self.document.info.description = Some(text.into());
        self
    }

    /// Adds a base URL the paths are relative to (`/api` when the routes are
    /// mounted under `/api/`).
    pub fn with_server(mut self, url: impl Into<String>) -> Self {
        self.document.servers.push(Server {
            url: url.into(),
            description: None,
        });
        self
    }

    /// Describes a tag; the docs page shows described tags first, in the
    /// order they were described.
    pub fn with_tag(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.document.tags.push(Tag {
            name: name.into(),
            description: Some(description.into()),
        });
        self
    }

    /// Declares a security scheme under `name`, for operations'
    /// [`Operation::security`] to require.
    pub fn with_security_scheme(mut self, name: impl Into<String>, scheme: SecurityScheme) -> Self {
        self.document
            .components
            .security_schemes
            .insert(name.into(), scheme);
        self
    }

    /// Adds an alternative to the default security of operations that set
    /// none: every scheme named here must pass. Call again for another
    /// alternative.
    pub fn with_security<I, S>(mut self, schemes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let requirement: SecurityRequirement = schemes
            .into_iter()
            .map(|scheme| (scheme.into(), Vec::new()))
            .collect();
        self.document.security.push(requirement);
        self
    }

    /// Adds a named schema built at run time (from ORM metadata, say), for
    /// bodies to refer to with [`crate::schema_ref`]. Its `$defs` become
    /// named schemas too, with their references rewritten.
    pub fn schema(&mut self, name: &str, schema: Value) -> Result<&mut Self, Error> {
        if !schema::valid_name(name) {
            return Err(Error::InvalidSchemaName {
                name: name.to_owned(),
            });
        }
        let mut definitions = BTreeMap::new();
        let schema = schema::hoist(schema, &mut definitions);
        definitions.insert(name.to_owned(), schema);
        let fixed = BTreeSet::from([name.to_owned()]);
        self.merge_names(
            definitions,
            &mut [],
            &fixed,
            &format!("the schema `{name}`"),
        )?;
        Ok(self)
    }

    /// Adds the named schema of `T` and of the types it uses.
    pub fn schema_for<T: JsonSchema + ?Sized>(&mut self) -> Result<&mut Self, Error> {
        let definitions = schema::generate::<T>(false).definitions;
        self.merge_schemas(definitions, &mut [], true, std::any::type_name::<T>())?;
        Ok(self)
    }

    /// Documents one route: `method` (an [`http::Method`], a [`Method`] or
    /// `"GET"`), its `pattern` in Tack's router syntax (`/users/{id:int}/`,
    /// `/files/{*path}`; axum's `/users/{id}` too) and what it does.
    ///
    /// Path parameters come from the pattern, typed by their converters
    /// (`int` is an integer, `uuid` a string in UUID format); a
    /// [`Parameter::path`] of the same name in `operation` adds its
    /// description, and its schema where the pattern's converter is the
    /// untyped `str` (axum patterns). `None` documents the route with its
    /// parameters only.
    pub fn route<M>(
        &mut self,
        method: M,
        pattern: &str,
        operation: impl Into<Option<Operation>>,
    ) -> Result<&mut Self, Error>
    where
        M: TryInto<Method>,
        M::Error: Into<Error>,
    {
        let method = method.try_into().map_err(Into::into)?;
        let template = pattern::parse(pattern).map_err(|reason| Error::InvalidPattern {
            pattern: pattern.to_owned(),
            reason,
        })?;
        let route = format!("{method} {}", template.path);
        let mut operation = operation.into().unwrap_or_default();
        if !operation.problems.is_empty() {
            return Err(Error::InvalidOperation {
                route,
                reason: operation.problems.join("; "),
            });
        }
        operation.parameters =
            path_parameters(&template, operation.parameters).map_err(|reason| {
                Error::InvalidOperation {
                    route: route.clone(),
                    reason,
                }
            })?;

        let shape = pattern::shape(&template.path);
        if let Some(first) = self.shapes.get(&shape)
            && *first != template.path
        {
            return Err(Error::AmbiguousPath {
                first: first.clone(),
                second: template.path,
            });
        }
        if self
            .document
            .paths
            .get(&template.path)
            .and_then(|item| item.get(method))
            .is_some()
        {
            return Err(Error::DuplicateRoute { route });
        }
        if let Some(id) = &operation.operation_id
            && let Some(first) = self.operation_ids.get(id)
        {
            return Err(Error::DuplicateOperationId {
                id: id.clone(),
                first: first.clone(),
                second: route,
            });
        }
        let definitions = std::mem::take(&mut operation.schemas);
        let fixed = std::mem::take(&mut operation.fixed_names);
        self.merge_names(definitions, &mut operation.schema_roots(), &fixed, &route)?;

        if let Some(id) = &operation.operation_id {
            self.operation_ids.insert(id.clone(), route);
        }
        self.shapes.insert(shape, template.path.clone());
        *self
            .document
            .paths
            .entry(template.path)
            .or_default()
            .slot_mut(method) = Some(operation);
        Ok(self)
    }

    /// The checked document: every `$ref` names an added schema and every
    /// required security scheme is declared.
    pub fn build(&self) -> Result<OpenApi, Error> {
        let document = &self.document;
        let schemas = &document.components.schemas;
        let schemes = &document.components.security_schemes;
        let check_security = |requirements: &[SecurityRequirement], used_by: &str| {
            for requirement in requirements {
                if let Some(name) = requirement.keys().find(|name| !schemes.contains_key(*name)) {
                    return Err(Error::UnknownSecurityScheme {
                        name: name.clone(),
                        used_by: used_by.to_owned(),
                    });
                }
            }
            Ok(())
        };
        let check_refs = |value: &Value, used_by: &str| {
            let mut names = BTreeSet::new();
            schema::referenced_names(value, &mut names);
            match names.into_iter().find(|name| !schemas.contains_key(name)) {
                Some(name) => Err(Error::UnknownSchema {
                    name,
                    used_by: used_by.to_owned(),
                }),
                None => Ok(()),
            }
        };
        check_security(&document.security, "the document's default security")?;
        for (method, path, operation) in document.operations() {
            let route = format!("the operation {method} {path}");
            check_security(operation.security.as_deref().unwrap_or_default(), &route)?;
            // The operation holds only strings and JSON values: it converts.
            let value = serde_json::to_value(operation).unwrap_or_default();
            check_refs(&value, &route)?;
        }
        for (name, value) in schemas {
            check_refs(value, &format!("the schema `{name}`"))?;
        }
        Ok(document.clone())
    }

    /// Merges named schemas (see [`schema::merge`]); `fixed` makes every
    /// name in `definitions` keep its name.
    fn merge_schemas(
        &mut self,
        definitions: BTreeMap<String, Value>,
        roots: &mut [&mut Value],
        fixed: bool,
        origin: &str,
    ) -> Result<(), Error> {
        let fixed: BTreeSet<String> = if fixed {
            definitions.keys().cloned().collect()
        } else {
            BTreeSet::new()
        };
        self.merge_names(definitions, roots, &fixed, origin)
    }

    fn merge_names(
        &mut self,
        definitions: BTreeMap<String, Value>,
        roots: &mut [&mut Value],
        fixed: &BTreeSet<String>,
        origin: &str,
    ) -> Result<(), Error> {
        if let Some(name) = definitions.keys().find(|name| !schema::valid_name(name)) {
            return Err(Error::InvalidSchemaName { name: name.clone() });
        }
        let schemas = &mut self.document.components.schemas;
        schema::merge(schemas, definitions, roots, fixed).map_err(|name| Error::SchemaConflict {
            name,
            origin: origin.to_owned(),
        })
    }
}

/// The operation's parameters with one path parameter per pattern
/// parameter first, in pattern order.
fn path_parameters(
    template: &pattern::PathTemplate,
    mut given: Vec<Parameter>,
) -> Result<Vec<Parameter>, String> {
    let mut parameters = Vec::with_capacity(given.len() + template.params.len());
    for param in &template.params {
        let position = given
            .iter()
            .position(|p| p.location == ParameterLocation::Path && p.name == param.name);
        let parameter = match position {
            Some(index) => {
                let mut parameter = given.remove(index);
                if param.converter != pattern::Converter::Str {
                    parameter.schema = param.converter.schema();
                }
                if parameter.description.is_none() {
                    parameter.description = param.converter.description().map(str::to_owned);
                }
                parameter
            }
            None => {
                let mut parameter = Parameter::path(&param.name).schema(param.converter.schema());
                parameter.description = param.converter.description().map(str::to_owned);
                parameter
            }
        };
        parameters.push(parameter);
    }
    if let Some(stray) = given.iter().find(|p| p.location == ParameterLocation::Path) {
        return Err(format!(
            "the path parameter `{}` is not in the route pattern",
            stray.name
        ));
    }
    parameters.extend(given);
    Ok(parameters)
}
