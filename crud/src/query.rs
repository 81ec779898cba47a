//! The list's query string: filters, search, ordering and pagination, each
//! checked against the configuration (unknown names are a 400, never
//! silently ignored).

use tack_orm::{Model, Q, QuerySet, Value};

use crate::crud::Config;
use crate::error::Error;

const RESERVED: [&str; 4] = ["page", "page_size", "search", "ordering"];

/// The page asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub(crate) page: u64,
    pub(crate) size: u64,
    /// The query string's pairs, to build `next`/`previous` links.
    pub(crate) pairs: Vec<(String, String)>,
}

/// Applies the query string to `qs`.
pub(crate) fn list_query<M: Model>(
    config: &Config<M>,
    query: Option<&str>,
    mut qs: QuerySet<M>,
) -> Result<(QuerySet<M>, PageRequest), Error> {
    let meta = M::meta();
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|error| {
            Error::InvalidParameter {
                param: "query string".into(),
                value: query.unwrap_or("").to_owned(),
                message: error.to_string(),
            }
        })?;
    let unknown: Vec<String> = pairs
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !allowed(config, k))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(Error::UnknownParameters {
            params: unknown,
            allowed: allowed_names(config),
        });
    }
    let mut page = 1;
    let mut size = config.page_size;
    let mut ordering: Option<&str> = None;
    let mut distinct = false;
    for (key, value) in &pairs {
        match key.as_str() {
            "page" => page = positive(key, value)?,
            "page_size" => {
                size = positive(key, value)?;
                if size > config.max_page_size {
                    return Err(Error::InvalidParameter {
                        param: key.clone(),
                        value: value.clone(),
                        message: format!("at most {} objects a page", config.max_page_size),
                    });
                }
            }
            "ordering" => ordering = Some(value),
            "search" => {
                let words = value.split_whitespace();
                if words.clone().count() > MAX_SEARCH_WORDS {
                    return Err(Error::InvalidParameter {
                        param: key.clone(),
                        value: truncated(value),
                        message: format!("Search for at most {MAX_SEARCH_WORDS} words."),
                    });
                }
                for word in words {
                    let mut any = Vec::new();
                    for path in &config.search {
                        any.push(Q::parse(
                            meta,
                            &format!("{path}__icontains"),
                            Value::Text(word.to_owned()),
                        )?);
                    }
                    qs = qs.filter(Q::Or(any));
                }
                distinct |= config.search.iter().any(|p| crosses_many(meta, p));
            }
            _ => {
                let Some(filter) = config.filters.iter().find(|f| f.param == *key) else {
                    continue;
                };
                let choices = &filter.field.choices;
                let exact = filter.lookup_name == "exact";
                if exact && !choices.is_empty() && !choices.iter().any(|(v, _)| v == value) {
                    let names: Vec<&str> = choices.iter().map(|(v, _)| *v).collect();
                    return Err(Error::InvalidParameter {
                        param: key.clone(),
                        value: truncated(value),
                        message: format!("expected one of: {}", names.join(", ")),
                    });
                }
                let text = Value::Text(value.clone());
                qs = qs.filter_by_name(&filter.lookup, text).map_err(|error| {
                    Error::InvalidParameter {
                        param: key.clone(),
                        value: value.clone(),
                        message: match error {
                            tack_orm::Error::InvalidValue { message, .. } => message,
                            other => other.to_string(),
                        },
                    }
                })?;
                distinct |= filter.many;
            }
        }
    }
    let ordering = match ordering {
        Some(text) => {
            let bad: Vec<String> = text
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .filter(|name| {
                    let path = name.trim_start_matches(['-', '+']);
                    !config.ordering.iter().any(|o| o == path)
                })
                .map(str::to_owned)
                .collect();
            if !bad.is_empty() {
                return Err(Error::UnknownOrdering {
                    fields: bad,
                    allowed: config.ordering.clone(),
                });
            }
            text
        }
        None => config.default_ordering.as_str(),
    };
    qs = qs.order_by_name(ordering)?;
    qs = qs.order_by_name(meta.pk_field().name)?;
    if distinct {
        qs = qs.distinct();
    }
    Ok((qs, PageRequest { page, size, pairs }))
}

fn crosses_many(meta: &'static tack_orm::ModelMeta, path: &str) -> bool {
    meta.many_to_many(path.split("__").next().unwrap_or(path))
        .is_some()
}

/// Words a `search` may have: each is one more condition in the query,
/// and SQLite refuses statements past a depth of 1,000.
pub const MAX_SEARCH_WORDS: usize = 32;

/// The start of a long value, for an error message.
fn truncated(value: &str) -> String {
    match value.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

fn positive(key: &str, value: &str) -> Result<u64, Error> {
    match value.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::InvalidParameter {
            param: key.to_owned(),
            value: value.to_owned(),
            message: "expected a whole number of at least 1".into(),
        }),
    }
}

fn allowed<M>(config: &Config<M>, key: &str) -> bool {
    match key {
        "page" | "page_size" => true,
        "search" => !config.search.is_empty(),
        "ordering" => !config.ordering.is_empty(),
        _ => config.filters.iter().any(|f| f.param == key),
    }
}

fn allowed_names<M>(config: &Config<M>) -> Vec<String> {
    RESERVED
        .iter()
        .filter(|name| allowed(config, name))
        .map(|name| (*name).to_owned())
        .chain(config.filters.iter().map(|f| f.param.clone()))
        .collect()
}

/// The link to page `page` (`None` when out of range), keeping every other
/// parameter; page 1 drops the `page` parameter.
pub(crate) fn page_link(base: &str, pairs: &[(String, String)], page: u64) -> String {
    let mut kept: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    if page > 1 {
        kept.push(("page", page.to_string()));
    }
    // Encoding pairs of strings cannot fail.
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    if query.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_other_parameters() {
        let pairs = vec![
            ("status".to_owned(), "published".to_owned()),
            ("page".to_owned(), "2".to_owned()),
        ];
        let cases = [
            (1, "/api/articles/?status=published"),
            (3, "/api/articles/?status=published&page=3"),
        ];
        for (page, expected) in cases {
            assert_eq!(page_link("/api/articles/", &pairs, page), expected);
        }
        assert_eq!(page_link("/a/", &[], 1), "/a/");
    }

    #[test]
    fn page_numbers_must_be_positive() {
        for (value, ok) in [
            ("1", true),
            ("20", true),
            ("0", false),
            ("-1", false),
            ("x", false),
        ] {
            assert_eq!(positive("page", value).is_ok(), ok, "{value}");
        }
    }
}
