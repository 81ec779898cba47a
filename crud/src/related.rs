//! Relation queries the controller runs beside the ORM's query sets:
//! many-to-many ids, nested objects, existence checks and join-table
//! writes. Identifiers come from model metadata and are quoted; every
//! value is bound.

use std::collections::HashMap;

use tack_orm::{Connection, Dialect, ManyToManyMeta, ModelMeta, Result, Value};

/// A hashable form of a key value (integers of either width agree).
pub(crate) fn key(value: &Value) -> String {
    match value {
        Value::I32(i) => i.to_string(),
        Value::I64(i) => i.to_string(),
        Value::Text(t) => t.clone(),
        other => other.to_string(),
    }
}

fn placeholders(dialect: Dialect, sql: &mut String, from: usize, count: usize) {
    for n in 0..count {
        if n > 0 {
            sql.push_str(", ");
        }
        dialect.placeholder_into(sql, from + n);
    }
}

/// The ids of the targets linked to each source, ordered by target id.
pub(crate) fn many_ids(
    conn: &Connection,
    m2m: &'static ManyToManyMeta,
    sources: &[Value],
) -> Result<HashMap<String, Vec<Value>>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    if sources.is_empty() {
        return Ok(out);
    }
    let d = conn.dialect();
    let target_kind = (m2m.target)().pk_field().kind;
    for chunk in sources.chunks(1000) {
        let mut sql = format!(
            "SELECT {src}, {tgt} FROM {table} WHERE {src} IN (",
            src = d.quote(m2m.source_column),
            tgt = d.quote(m2m.target_column),
            table = d.quote(m2m.join_table),
        );
        placeholders(d, &mut sql, 1, chunk.len());
        sql.push_str(") ORDER BY ");
        sql.push_str(&d.quote(m2m.target_column));
        conn.query(&sql, chunk, |row| {
            let source = row.value(0)?;
            let target = row.value(1)?;
            let target = target.clone().coerce(target_kind).unwrap_or(target);
            out.entry(key(&source)).or_default().push(target);
            Ok(())
        })?;
    }
    Ok(out)
}

/// Every field of the target rows with these primary keys, as JSON objects.
pub(crate) fn objects_by_pk(
    conn: &Connection,
    target: &'static ModelMeta,
    ids: &[Value],
) -> Result<HashMap<String, serde_json::Value>> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let d = conn.dialect();
    let columns: Vec<String> = target.fields.iter().map(|f| d.quote(f.column)).collect();
    for chunk in ids.chunks(1000) {
        let mut sql = format!(
            "SELECT {} FROM {} WHERE {} IN (",
            columns.join(", "),
            d.quote(target.table),
            d.quote(target.pk_field().column)
        );
        placeholders(d, &mut sql, 1, chunk.len());
        sql.push(')');
        conn.query(&sql, chunk, |row| {
            let mut object = serde_json::Map::new();
            let mut pk = Value::Null;
            for (i, field) in target.fields.iter().enumerate() {
                let raw = row.value(i)?;
                let value = raw.clone().coerce(field.kind).unwrap_or(raw);
                if i == target.pk {
                    pk = value.clone();
                }
                object.insert(
                    field.name.to_owned(),
                    serde_json::to_value(crate::json::JsonValue(&value))
                        .unwrap_or(serde_json::Value::Null),
                );
            }
            out.insert(key(&pk), serde_json::Value::Object(object));
            Ok(())
        })?;
    }
    Ok(out)
}

/// The ids among `ids` that no row of `target` has.
pub(crate) fn missing_pks(
    conn: &Connection,
    target: &'static ModelMeta,
    ids: &[Value],
) -> Result<Vec<Value>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let d = conn.dialect();
    let pk = target.pk_field();
    let mut found = std::collections::HashSet::new();
    for chunk in ids.chunks(1000) {
        let mut sql = format!(
            "SELECT {} FROM {} WHERE {} IN (",
            d.quote(pk.column),
            d.quote(target.table),
            d.quote(pk.column)
        );
        placeholders(d, &mut sql, 1, chunk.len());
        sql.push(')');
        conn.query(&sql, chunk, |row| {
            let value = row.value(0)?;
            found.insert(key(&value.clone().coerce(pk.kind).unwrap_or(value)));
            Ok(())
        })?;
    }
    Ok(ids
        .iter()
        .filter(|id| !found.contains(&key(id)))
        .cloned()
        .collect())
}

/// Makes `targets` exactly the set linked to `source`.
pub(crate) fn set_many(
    conn: &Connection,
    m2m: &'static ManyToManyMeta,
    source: &Value,
    targets: &[Value],
) -> Result<()> {
    let d = conn.dialect();
    let mut delete = format!(
        "DELETE FROM {} WHERE {} = ",
        d.quote(m2m.join_table),
        d.quote(m2m.source_column)
    );
    d.placeholder_into(&mut delete, 1);
    conn.execute(&delete, std::slice::from_ref(source))?;
    let mut insert = format!(
        "INSERT INTO {} ({}, {}) VALUES (",
        d.quote(m2m.join_table),
        d.quote(m2m.source_column),
        d.quote(m2m.target_column)
    );
    placeholders(d, &mut insert, 1, 2);
    insert.push(')');
    let mut seen = std::collections::HashSet::new();
    for target in targets {
        if seen.insert(key(target)) {
            conn.execute(&insert, &[source.clone(), target.clone()])?;
        }
    }
    Ok(())
}
