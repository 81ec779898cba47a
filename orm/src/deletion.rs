//! The delete collector: before rows are deleted, what goes with them,
//! what changes and what forbids it, across models and relations (what
//! Django's delete confirmation page lists).

use std::collections::{HashSet, VecDeque};

use crate::connection::Executor;
use crate::error::Result;
use crate::expr::Q;
use crate::handle::{Instance, ListQuery, ModelHandle};
use crate::model::{FieldMeta, ManyToManyMeta, ModelMeta, OnDelete};
use crate::query::Sql;
use crate::value::{FieldKind, Value};

/// The rows of one model that a delete touches, and through which foreign
/// key (none for the rows asked for).
#[derive(Debug, Clone)]
pub struct Collected {
    /// Their model.
    pub model: &'static ModelMeta,
    /// The foreign key that reaches them from the deleted rows.
    pub field: Option<&'static FieldMeta>,
    /// The rows.
    pub instances: Vec<Instance>,
}

/// Many-to-many links that go with the deleted rows.
#[derive(Debug, Clone)]
pub struct LinkCount {
    /// The model that declares the relation.
    pub model: &'static ModelMeta,
    /// The relation.
    pub relation: &'static ManyToManyMeta,
    /// How many links go.
    pub count: u64,
}

/// What deleting some rows would do, found by [`ModelHandle::delete_plan`]
/// without changing anything.
#[derive(Debug, Clone, Default)]
pub struct DeletePlan {
    /// Rows deleted: the ones asked for, then those that cascade, per model.
    pub deleted: Vec<Collected>,
    /// Rows whose foreign key is set to `NULL` (`set_null`) or to its
    /// default (`set_default`).
    pub updated: Vec<Collected>,
    /// Rows that forbid the delete: `protect` always, `restrict` unless the
    /// row is deleted too. While any remain, the database refuses.
    pub protected: Vec<Collected>,
    /// Many-to-many links removed with the rows.
    pub links: Vec<LinkCount>,
}

impl DeletePlan {
    /// Whether the delete may go ahead (nothing protects the rows).
    pub fn is_allowed(&self) -> bool {
        self.protected.is_empty()
    }

    /// How many rows of each model go, by plural verbose name, in the
    /// order they were found (`[("articles", 2), ("comments", 5)]`).
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        self.deleted
            .iter()
            .map(|c| (c.model.verbose_name_plural, c.instances.len()))
            .collect()
    }

    /// Every row that goes, all models together.
    pub fn total(&self) -> usize {
        self.deleted.iter().map(|c| c.instances.len()).sum()
    }
}

/// One (model, foreign key) whose rows point at another model.
struct Referrer {
    model: &'static ModelMeta,
    field: &'static FieldMeta,
    on_delete: OnDelete,
}

fn referrers(models: &[&'static ModelMeta], target: &'static ModelMeta) -> Vec<Referrer> {
    let mut out = Vec::new();
    for model in models {
        for field in model.fields {
            if let Some(relation) = field.relation
                && std::ptr::eq((relation.target)(), target)
            {
                out.push(Referrer {
                    model,
                    field,
                    on_delete: relation.on_delete,
                });
            }
        }
    }
    out
}

/// Adds `instances` to the group of (`model`, `field`) in `groups`.
fn add(
    groups: &mut Vec<Collected>,
    model: &'static ModelMeta,
    field: Option<&'static FieldMeta>,
    instances: Vec<Instance>,
) {
    if instances.is_empty() {
        return;
    }
    let same_field = |c: &Collected| match (c.field, field) {
        (Some(a), Some(b)) => std::ptr::eq(a, b),
        (None, None) => true,
        _ => false,
    };
    match groups
        .iter_mut()
        .find(|c| std::ptr::eq(c.model, model) && same_field(c))
    {
        Some(group) => group.instances.extend(instances),
        None => groups.push(Collected {
            model,
            field,
            instances,
        }),
    }
}

fn identity(instance: &Instance) -> (&'static str, String) {
    (instance.meta().table, instance.pk().key())
}

/// Rows of `model` whose `field` is one of `ids`.
fn referring(
    exec: &impl Executor,
    model: &'static ModelMeta,
    field: &'static FieldMeta,
    ids: &[Value],
) -> Result<Vec<Instance>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        let query = ListQuery::new().filter(Q::is_in(field.name, chunk.to_vec()));
        out.extend(model.handle().list(exec, &query)?);
    }
    Ok(out)
}

/// How many rows of a join table have `column` among `ids`.
fn count_links(
    exec: &impl Executor,
    relation: &ManyToManyMeta,
    column: &str,
    ids: &[Value],
) -> Result<u64> {
    let mut total = 0;
    for chunk in ids.chunks(1000) {
        let mut sql = Sql::new(exec.dialect());
        sql.push("SELECT COUNT(*) FROM ");
        sql.ident(relation.join_table);
        sql.push(" WHERE ");
        sql.ident(column);
        sql.in_list(chunk.iter().cloned());
        exec.with_connection(|conn| {
            conn.query(&sql.text, &sql.params, |row| {
                if let Ok(Value::I64(n)) = row.value(0)?.coerce(FieldKind::I64) {
                    total += n.max(0) as u64;
                }
                Ok(())
            })
        })?;
    }
    Ok(total)
}

/// Builds the plan for deleting the rows `pks` of `root`, following
/// foreign keys declared on `models`.
pub(crate) fn plan(
    exec: &impl Executor,
    root: ModelHandle,
    pks: &[Value],
    models: &[&'static ModelMeta],
) -> Result<DeletePlan> {
    let mut universe: Vec<&'static ModelMeta> = Vec::new();
    for model in models.iter().copied().chain([root.meta()]) {
        if !universe.iter().any(|m| std::ptr::eq(*m, model)) {
            universe.push(model);
        }
    }
    let mut plan = DeletePlan::default();
    let mut seen: HashSet<(&'static str, String)> = HashSet::new();
    let found: Vec<Instance> = root.get_many(exec, pks)?.into_iter().flatten().collect();
    let mut queue = VecDeque::new();
    let mut fresh = Vec::new();
    for instance in found {
        if seen.insert(identity(&instance)) {
            fresh.push(instance);
        }
    }
    queue.push_back((root.meta(), fresh.iter().map(|i| i.pk().clone()).collect()));
    add(&mut plan.deleted, root.meta(), None, fresh);
    let mut restricted = Vec::new();
    while let Some((target, ids)) = queue.pop_front() {
        let ids: Vec<Value> = ids;
        if ids.is_empty() {
            continue;
        }
        for referrer in referrers(&universe, target) {
            let rows = referring(exec, referrer.model, referrer.field, &ids)?;
            match referrer.on_delete {
                OnDelete::Cascade => {
                    let new: Vec<Instance> = rows
                        .into_iter()
                        .filter(|i| seen.insert(identity(i)))
                        .collect();
                    queue.push_back((referrer.model, new.iter().map(|i| i.pk().clone()).collect()));
                    add(&mut plan.deleted, referrer.model, None, new);
                }
                OnDelete::SetNull | OnDelete::SetDefault => add(
                    &mut plan.updated,
                    referrer.model,
                    Some(referrer.field),
                    rows,
                ),
                OnDelete::Protect => add(
                    &mut plan.protected,
                    referrer.model,
                    Some(referrer.field),
                    rows,
                ),
                OnDelete::Restrict => restricted.push((referrer.model, referrer.field, rows)),
                // The database's own check decides; the ORM lists nothing.
                OnDelete::DoNothing => {}
            }
        }
    }
    // Rows deleted anyway neither change nor forbid anything, except that
    // `protect` forbids even then (as Django's PROTECT does).
    for (model, field, rows) in restricted {
        let kept = rows
            .into_iter()
            .filter(|i| !seen.contains(&identity(i)))
            .collect();
        add(&mut plan.protected, model, Some(field), kept);
    }
    for group in &mut plan.updated {
        group.instances.retain(|i| !seen.contains(&identity(i)));
    }
    plan.updated.retain(|g| !g.instances.is_empty());
    plan.links = links(exec, &universe, &plan.deleted)?;
    Ok(plan)
}

/// The many-to-many links of the deleted rows, on either side.
fn links(
    exec: &impl Executor,
    universe: &[&'static ModelMeta],
    deleted: &[Collected],
) -> Result<Vec<LinkCount>> {
    let mut out = Vec::new();
    for group in deleted {
        let ids: Vec<Value> = group.instances.iter().map(|i| i.pk().clone()).collect();
        for relation in group.model.many_to_many {
            let count = count_links(exec, relation, relation.source_column, &ids)?;
            if count > 0 {
                out.push(LinkCount {
                    model: group.model,
                    relation,
                    count,
                });
            }
        }
        for model in universe {
            for relation in model.many_to_many {
                if !std::ptr::eq((relation.target)(), group.model) {
                    continue;
                }
                let count = count_links(exec, relation, relation.target_column, &ids)?;
                if count > 0 {
                    out.push(LinkCount {
                        model,
                        relation,
                        count,
                    });
                }
            }
        }
    }
    Ok(out)
}
