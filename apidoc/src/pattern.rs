//! Route patterns in Tack's router syntax, turned into OpenAPI path templates.
//!
//! `/articles/{slug}/`, `/users/{id:int}/` and `/files/{*path}` become
//! `/articles/{slug}/`, `/users/{id}/` and `/files/{path}`, each parameter
//! with the schema its converter accepts. Axum 0.8 patterns use the same
//! syntax without converters, so they parse too.

use serde_json::{Value, json};

/// A route pattern's OpenAPI path and its parameters, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PathTemplate {
    pub(crate) path: String,
    pub(crate) params: Vec<PathParam>,
}

/// One parameter of a route pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PathParam {
    pub(crate) name: String,
    pub(crate) converter: Converter,
}

/// What a path parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Converter {
    /// One segment (the default).
    Str,
    /// ASCII digits: a non-negative integer.
    Int,
    /// Letters, digits, `-` and `_`.
    Slug,
    /// A UUID.
    Uuid,
    /// The rest of the path, slashes included (`{name:path}` or `{*name}`).
    Path,
}

impl Converter {
    const NAMES: &'static str = "str, int, slug, uuid or path";

    fn parse(name: &str) -> Option<Converter> {
        Some(match name {
            "str" => Converter::Str,
            "int" => Converter::Int,
            "slug" => Converter::Slug,
            "uuid" => Converter::Uuid,
            "path" => Converter::Path,
            _ => return None,
        })
    }

    /// The JSON Schema of the values this converter accepts.
    pub(crate) fn schema(self) -> Value {
        crate::schema::canonical(match self {
            Converter::Str | Converter::Path => json!({"type": "string"}),
            Converter::Int => json!({"type": "integer", "minimum": 0}),
            Converter::Slug => json!({"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}),
            Converter::Uuid => json!({"type": "string", "format": "uuid"}),
        })
    }

    /// A description for parameters whose converter says something a schema
    /// cannot.
    pub(crate) fn description(self) -> Option<&'static str> {
        (self == Converter::Path).then_some("The rest of the path; it may contain `/`.")
    }
}

/// Parses a route pattern; the error says what is wrong with it.
pub(crate) fn parse(pattern: &str) -> Result<PathTemplate, String> {
    if !pattern.starts_with('/') {
        return Err("a route pattern starts with `/`".to_owned());
    }
    let mut path = String::with_capacity(pattern.len());
    let mut params: Vec<PathParam> = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find(['{', '}']) {
        path.push_str(&rest[..start]);
        if rest[start..].starts_with('}') || rest[start..].starts_with("{{") {
            return Err(
                "literal braces (`{{`, `}}`) cannot appear in an OpenAPI path; \
                 a parameter is written `{name}` or `{name:converter}`"
                    .to_owned(),
            );
        }
        let Some(len) = rest[start..].find('}') else {
            return Err("a `{` is never closed by `}`".to_owned());
        };
        let inside = &rest[start + 1..start + len];
        rest = &rest[start + len + 1..];
        let (name, converter) = if let Some(name) = inside.strip_prefix('*') {
            (name, Converter::Path)
        } else {
            match inside.split_once(':') {
                Some((name, converter)) => {
                    let converter = Converter::parse(converter).ok_or_else(|| {
                        format!(
                            "unknown converter `{converter}` for parameter `{name}`; use {}",
                            Converter::NAMES
                        )
                    })?;
                    (name, converter)
                }
                None => (inside, Converter::Str),
            }
        };
        if converter == Converter::Path && !rest.is_empty() {
            return Err(format!(
                "the parameter `{name}` matches slashes, so it must end the pattern"
            ));
        }
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`{name}` is not a parameter name: use letters, digits and `_`, \
                 not starting with a digit"
            ));
        }
        if params.iter().any(|param| param.name == name) {
            return Err(format!("the parameter `{name}` appears twice"));
        }
        path.push('{');
        path.push_str(name);
        path.push('}');
        params.push(PathParam {
            name: name.to_owned(),
            converter,
        });
    }
    path.push_str(rest);
    Ok(PathTemplate { path, params })
}

/// The path with every parameter name blanked (`/users/{}/`): two paths with
/// the same shape are the same path to OpenAPI.
pub(crate) fn shape(path: &str) -> String {
    let mut shape = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                shape.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => shape.push(c),
        }
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pattern, its OpenAPI path, and its parameters.
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, Converter)],
    );

    #[test]
    fn patterns_become_templates() {
        let cases: &[Case] = &[
            ("/", "/", &[]),
            ("/articles/", "/articles/", &[]),
            (
                "/articles/{slug}/",
                "/articles/{slug}/",
                &[("slug", Converter::Str)],
            ),
            (
                "/users/{id:int}/",
                "/users/{id}/",
                &[("id", Converter::Int)],
            ),
            (
                "/tags/{name:slug}/",
                "/tags/{name}/",
                &[("name", Converter::Slug)],
            ),
            (
                "/keys/{key:uuid}",
                "/keys/{key}",
                &[("key", Converter::Uuid)],
            ),
            (
                "/files/{*path}",
                "/files/{path}",
                &[("path", Converter::Path)],
            ),
            (
                "/raw/{rest:path}",
                "/raw/{rest}",
                &[("rest", Converter::Path)],
            ),
            (
                "/a/{x:int}/b/{y}.json",
                "/a/{x}/b/{y}.json",
                &[("x", Converter::Int), ("y", Converter::Str)],
            ),
        ];
        for (pattern, path, params) in cases {
            let template = parse(pattern).unwrap();
            assert_eq!(template.path, *path, "{pattern}");
            let got: Vec<(&str, Converter)> = template
                .params
                .iter()
                .map(|param| (param.name.as_str(), param.converter))
                .collect();
            assert_eq!(got, *params, "{pattern}");
        }
    }

    #[test]
    fn bad_patterns_say_why() {
        let cases = [
            ("articles/", "starts with `/`"),
            ("/a/{id", "never closed"),
            ("/a/}", "literal braces"),
            ("/a/{{x}}", "literal braces"),
            (
                "/a/{id:integer}/",
                "unknown converter `integer` for parameter `id`",
            ),
            ("/a/{*rest}/b", "must end the pattern"),
            ("/a/{rest:path}/b", "must end the pattern"),
            ("/a/{}/", "is not a parameter name"),
            ("/a/{1x}/", "is not a parameter name"),
            ("/a/{x}/{x}/", "appears twice"),
        ];
        for (pattern, message) in cases {
            let error = parse(pattern).unwrap_err();
            assert!(error.contains(message), "{pattern}: {error}");
        }
    }

    #[test]
    fn shapes_ignore_names() {
        assert_eq!(shape("/users/{id}/posts/{post}"), "/users/{}/posts/{}");
        assert_eq!(shape("/users/"), "/users/");
    }
}
