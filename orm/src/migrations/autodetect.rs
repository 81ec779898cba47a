//! Comparing two schema states: the operations that turn one into the other.

use std::fmt;

use super::state::{Column, Operation, ProjectState, Table};
use crate::error::{Error, Result};

/// Renames `makemigrations` should treat as renames (an undeclared rename is
/// a column removed and another added, which loses the data), and the
/// look-alike pairs that are not renames.
#[derive(Debug, Clone, Default)]
pub struct Renames {
    tables: Vec<(String, String)>,
    columns: Vec<(String, String, String)>,
    not_columns: Vec<(String, String, String)>,
    no_renames: bool,
}

/// A column removed and another of the same type added to the same table:
/// perhaps a rename. `makemigrations` does not guess: declare it with
/// [`Renames::column`] or [`Renames::not_column`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameQuestion {
    /// The table.
    pub table: String,
    /// The removed column.
    pub old: String,
    /// The added column.
    pub new: String,
}

impl fmt::Display for RenameQuestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Did you rename {t}.{} to {t}.{}?",
            self.old,
            self.new,
            t = self.table
        )
    }
}

/// What [`diff`] found.
pub(crate) struct Diff {
    pub(crate) ops: Vec<Operation>,
    pub(crate) notes: Vec<String>,
    /// Look-alike removed and added columns nobody has decided on.
    pub(crate) questions: Vec<RenameQuestion>,
}

impl Renames {
    /// No renames.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares that table `old` is now called `new`.
    pub fn table(mut self, old: &str, new: &str) -> Self {
        self.tables.push((old.to_owned(), new.to_owned()));
        self
    }

    /// Declares that column `old` of `table` (its current name) is now `new`.
    pub fn column(mut self, table: &str, old: &str, new: &str) -> Self {
        self.columns
            .push((table.to_owned(), old.to_owned(), new.to_owned()));
        self
    }

    /// Declares that column `old` of `table` was removed and `new` added:
    /// not a rename, the data in `old` goes.
    pub fn not_column(mut self, table: &str, old: &str, new: &str) -> Self {
        self.not_columns
            .push((table.to_owned(), old.to_owned(), new.to_owned()));
        self
    }

    /// Declares that no removed column was renamed (`--no-rename`).
    pub fn no_renames(mut self) -> Self {
        self.no_renames = true;
        self
    }

    /// Whether `question` is answered "no".
    fn refused(&self, question: &RenameQuestion) -> bool {
        self.no_renames
            || self
                .not_columns
                .iter()
                .any(|(t, o, n)| *t == question.table && *o == question.old && *n == question.new)
    }
}

/// The operations (and notes for the reviewer) that turn `from` into `to`.
pub(crate) fn diff(from: &ProjectState, to: &ProjectState, renames: &Renames) -> Result<Diff> {
    let mut ops = Vec::new();
    let mut notes = Vec::new();
    let mut questions = Vec::new();
    let mut from = from.clone();

    for (old, new) in &renames.tables {
        if from.tables.contains_key(old)
            && !from.tables.contains_key(new)
            && to.tables.contains_key(new)
            && !to.tables.contains_key(old)
        {
            let op = Operation::RenameTable {
                old: old.clone(),
                new: new.clone(),
            };
            from.apply(&op)?;
            ops.push(op);
        }
    }

    // Constraints that go or change come off before any column changes,
    // and come back (changed) once the columns are in place.
    // They are compared as they will be after the declared column renames,
    // which carry constraints along.
    let mut renamed = from.clone();
    for (table, old, new) in &renames.columns {
        let has = |state: &ProjectState, column: &str| {
            state
                .tables
                .get(table)
                .is_some_and(|t| t.column(column).is_some())
        };
        if has(&from, old) && !has(&from, new) && has(to, new) && !has(to, old) {
            renamed.apply(&Operation::RenameColumn {
                table: table.clone(),
                old: old.clone(),
                new: new.clone(),
            })?;
        }
    }
    let mut added_constraints = Vec::new();
    for (name, old) in &from.tables {
        let new = to.tables.get(name);
        let after_renames = &renamed.tables[name].constraints;
        for (constraint, renamed) in old.constraints.iter().zip(after_renames) {
            let kept = new.is_some_and(|t| t.constraints.contains(renamed));
            if !kept {
                ops.push(Operation::RemoveConstraint {
                    table: name.clone(),
                    name: constraint.name.clone(),
                    old: Some(constraint.clone()),
                });
            }
        }
    }
    for (name, new) in &to.tables {
        let old = renamed.tables.get(name);
        for constraint in &new.constraints {
            if !old.is_some_and(|t| t.constraints.contains(constraint)) {
                added_constraints.push(Operation::AddConstraint {
                    table: name.clone(),
                    constraint: constraint.clone(),
                });
            }
        }
    }

    // Join tables that go away first, before the tables they refer to.
    for (name, join) in &from.join_tables {
        if !to.join_tables.contains_key(name) {
            ops.push(Operation::DropJoinTable {
                table: name.clone(),
                old: Some(join.clone()),
            });
        }
    }

    let created: Vec<&String> = to
        .tables
        .keys()
        .filter(|t| !from.tables.contains_key(*t))
        .collect();
    for table in dependency_order(to, &created) {
        ops.push(Operation::CreateTable {
            table: table.clone(),
            columns: to.tables[table].columns.clone(),
        });
    }

    for (name, new) in &to.tables {
        if let Some(old) = from.tables.get(name) {
            diff_table(
                name,
                old,
                new,
                renames,
                &mut ops,
                &mut notes,
                &mut questions,
            )?;
        }
    }

    for (name, join) in &to.join_tables {
        match from.join_tables.get(name) {
            None => ops.push(Operation::CreateJoinTable {
                table: name.clone(),
                join: join.clone(),
            }),
            Some(old) if old != join => {
                ops.push(Operation::DropJoinTable {
                    table: name.clone(),
                    old: Some(old.clone()),
                });
                ops.push(Operation::CreateJoinTable {
                    table: name.clone(),
                    join: join.clone(),
                });
                notes.push(format!(
                    "join table {name} changed shape: it is dropped and created again (its rows are lost)"
                ));
            }
            Some(_) => {}
        }
    }

    let dropped: Vec<&String> = from
        .tables
        .keys()
        .filter(|t| !to.tables.contains_key(*t))
        .collect();
    let mut order = dependency_order(&from, &dropped);
    order.reverse();
    for table in order {
        ops.push(Operation::DropTable {
            table: table.clone(),
            columns: Some(from.tables[table].columns.clone()),
        });
    }
    ops.append(&mut added_constraints);
    if !dropped.is_empty() && !created.is_empty() {
        notes.push(format!(
            "tables dropped ({}) and created ({}): if one was renamed, declare the rename \
             or its rows are lost",
            join(&dropped),
            join(&created)
        ));
    }
    Ok(Diff {
        ops,
        notes,
        questions,
    })
}

fn join(names: &[&String]) -> String {
    names
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `tables` ordered so that each comes after the tables it refers to.
fn dependency_order<'a>(state: &ProjectState, tables: &[&'a String]) -> Vec<&'a String> {
    let mut ordered: Vec<&String> = Vec::new();
    let mut left: Vec<&String> = tables.to_vec();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|t| {
            let ready = state.tables[t.as_str()]
                .columns
                .iter()
                .filter_map(|c| c.references.as_ref())
                .all(|r| {
                    r.table == **t
                        || ordered.iter().any(|o| **o == r.table)
                        || !tables.iter().any(|x| **x == r.table)
                });
            if ready {
                ordered.push(t);
            }
            !ready
        });
        if left.len() == before {
            ordered.append(&mut left);
        }
    }
    ordered
}

fn diff_table(
    table: &str,
    old: &Table,
    new: &Table,
    renames: &Renames,
    ops: &mut Vec<Operation>,
    notes: &mut Vec<String>,
    questions: &mut Vec<RenameQuestion>,
) -> Result<()> {
    let mut old = old.clone();
    for (t, from, to) in &renames.columns {
        if t == table
            && old.column(from).is_some()
            && old.column(to).is_none()
            && new.column(to).is_some()
            && new.column(from).is_none()
        {
            ops.push(Operation::RenameColumn {
                table: table.to_owned(),
                old: from.clone(),
                new: to.clone(),
            });
            for c in &mut old.columns {
                if c.name == *from {
                    c.name.clone_from(to);
                }
            }
        }
    }
    let removed: Vec<&Column> = old
        .columns
        .iter()
        .filter(|c| new.column(&c.name).is_none())
        .collect();
    let added: Vec<&Column> = new
        .columns
        .iter()
        .filter(|c| old.column(&c.name).is_none())
        .collect();
    for column in &removed {
        ops.push(Operation::RemoveColumn {
            table: table.to_owned(),
            column: column.name.clone(),
            old: Some((*column).clone()),
        });
    }
    for r in &removed {
        for a in &added {
            let question = RenameQuestion {
                table: table.to_owned(),
                old: r.name.clone(),
                new: a.name.clone(),
            };
            if r.ty == a.ty && r.references == a.references && !renames.refused(&question) {
                questions.push(question);
            } else if r.ty.kind == a.ty.kind {
                notes.push(format!(
                    "{table}: column {} removed and {} added. If this is a rename, declare it \
                     (Renames::column(\"{table}\", \"{}\", \"{}\")) and run makemigrations again: \
                     as written, the data in {} is lost",
                    r.name, a.name, r.name, a.name, r.name
                ));
            }
        }
    }
    for column in &added {
        // An undecided look-alike stops makemigrations with its question.
        let asked = questions
            .iter()
            .any(|q| q.table == table && q.new == column.name);
        if !column.ty.null && column.ty.default.is_none() && !column.auto && !asked {
            return Err(Error::query(format!(
                "cannot add column {table}.{} NOT NULL without a default: existing rows would \
                 have no value. Give the field a default (#[tack(default = ...)]) or make it an \
                 Option, then run makemigrations again",
                column.name
            )));
        }
        ops.push(Operation::AddColumn {
            table: table.to_owned(),
            column: (*column).clone(),
        });
    }
    let changed = new
        .columns
        .iter()
        .filter_map(|n| old.column(&n.name).map(|o| (o, n)));
    for (o, n) in changed {
        let t = || table.to_owned();
        let c = || n.name.clone();
        if o.primary_key != n.primary_key || o.auto != n.auto {
            return Err(Error::query(format!(
                "{table}.{}: changing the primary key is not supported by migrations",
                n.name
            )));
        }
        if o.references != n.references
            && let Some(previous) = &o.references
        {
            ops.push(Operation::RemoveForeignKey {
                table: t(),
                column: c(),
                old: Some(previous.clone()),
            });
        }
        if o.ty != n.ty {
            if o.ty.null && !n.ty.null && n.ty.default.is_none() {
                notes.push(format!(
                    "{table}.{} becomes NOT NULL without a default: the migration fails if a \
                     row holds NULL",
                    n.name
                ));
            }
            ops.push(Operation::AlterColumn {
                table: t(),
                column: c(),
                old: Some(o.ty.clone()),
                new: n.ty.clone(),
            });
        }
        if o.unique != n.unique {
            ops.push(if n.unique {
                Operation::AddUnique {
                    table: t(),
                    column: c(),
                }
            } else {
                Operation::RemoveUnique {
                    table: t(),
                    column: c(),
                }
            });
        }
        if o.index != n.index {
            ops.push(if n.index {
                Operation::AddIndex {
                    table: t(),
                    column: c(),
                }
            } else {
                Operation::RemoveIndex {
                    table: t(),
                    column: c(),
                }
            });
        }
        if o.references != n.references
            && let Some(target) = &n.references
        {
            ops.push(Operation::AddForeignKey {
                table: t(),
                column: c(),
                references: target.clone(),
            });
        }
    }
    Ok(())
}
