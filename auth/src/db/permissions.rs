//! Creating permission rows: the four defaults of every model, and custom ones.

use std::collections::BTreeSet;

use tack_orm::{Executor, ModelExt, ModelMeta, Value};

use super::models;
use crate::{Error, Permission};

/// Creates the view/add/change/delete permissions
/// ([`Permission::defaults_for_model`]) of every model in `models` that are
/// not stored yet, in one transaction; answers how many were created.
/// Idempotent: call it at every start (Django does after `migrate`).
pub fn ensure_permissions(db: &impl Executor, models: &[&ModelMeta]) -> Result<usize, Error> {
    let permissions: Vec<Permission> = models
        .iter()
        .flat_map(|meta| Permission::defaults_for_model(meta.app, meta.name, meta.verbose_name))
        .collect();
    create_permissions(db, &permissions)
}

/// Creates the given (custom) permissions that are not stored yet, in one
/// transaction; answers how many were created. Names of existing ones are
/// left as they are. It runs under the migration lock
/// ([`tack_orm::migrations::lock`]): processes starting at the same moment
/// create each permission once, and none fails on the other's insert.
pub fn create_permissions(db: &impl Executor, permissions: &[Permission]) -> Result<usize, Error> {
    let action = "create permissions";
    for permission in permissions {
        if Permission::split_key(&permission.key()).is_none() || permission.codename.contains('.') {
            return Err(Error::UnknownPermission {
                permission: permission.key(),
                reason: "a permission needs an app label and a codename without dots",
            });
        }
    }
    if permissions.is_empty() {
        return Ok(0);
    }
    db.with_connection(|conn| {
        conn.atomic(|tx| {
            tack_orm::migrations::lock(tx)?;
            let keys: Vec<String> = permissions.iter().map(Permission::key).collect();
            let stored: BTreeSet<String> = models::Permission::objects()
                .filter(models::Permission::KEY.is_in(keys))
                .values_list(tx, &["key"])?
                .into_iter()
                .filter_map(|row| match row.into_iter().next() {
                    Some(Value::Text(key)) => Some(key),
                    _ => None,
                })
                .collect();
            let mut created = 0;
            let mut seen = stored;
            for permission in permissions {
                if seen.insert(permission.key()) {
                    models::Permission::from_permission(permission).save(tx)?;
                    created += 1;
                }
            }
            Ok(created)
        })
    })
    .map_err(|error| Error::backend(action, error))
}
