//! Models: the trait `#[derive(Model)]` implements and the runtime metadata
//! every model carries.

use std::any::Any;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result, ValidationErrors};
use crate::query::{QuerySet, SelectShape};
use crate::row::Row;
use crate::value::{FieldKind, FieldType, ToValue, Value};

/// What happens to rows that refer to a deleted row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnDelete {
    /// Delete the referring rows too.
    Cascade,
    /// Set the referring column to `NULL` (the field must be an `Option`).
    SetNull,
    /// Refuse the delete while referring rows exist (checked at once).
    Protect,
    /// Refuse the delete unless the referring rows go in the same statement.
    Restrict,
    /// Set the referring column to its default (the field needs a `default`).
    SetDefault,
    /// Nothing from the ORM: the database's own check refuses the delete
    /// while referring rows remain, and the delete collector lists nothing.
    DoNothing,
}

impl OnDelete {
    /// Every rule, for parsing names.
    pub const ALL: [OnDelete; 6] = [
        OnDelete::Cascade,
        OnDelete::SetNull,
        OnDelete::Protect,
        OnDelete::Restrict,
        OnDelete::SetDefault,
        OnDelete::DoNothing,
    ];

    /// The lowercase name used in attributes and schema files.
    pub fn name(self) -> &'static str {
        match self {
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set_null",
            OnDelete::Protect => "protect",
            OnDelete::Restrict => "restrict",
            OnDelete::SetDefault => "set_default",
            OnDelete::DoNothing => "do_nothing",
        }
    }

    /// The rule named `name` (as [`OnDelete::name`] gives it).
    pub fn from_name(name: &str) -> Option<OnDelete> {
        OnDelete::ALL.into_iter().find(|rule| rule.name() == name)
    }

    /// The `ON DELETE` action in SQL, the same on both databases.
    pub fn sql(self) -> &'static str {
        match self {
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
            OnDelete::Protect => "RESTRICT",
            OnDelete::Restrict | OnDelete::DoNothing => "NO ACTION",
            OnDelete::SetDefault => "SET DEFAULT",
        }
    }
}

/// The shape of a relation field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RelationKind {
    /// Many rows here refer to one row there.
    ForeignKey,
    /// A foreign key that is also unique.
    OneToOne,
}

/// A table-level rule a model declares: unique together (optionally only
/// for rows meeting a condition), a multi-column index, or a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraint {
    /// The constraint's (or index's) name in the database.
    pub name: &'static str,
    /// What it says.
    pub kind: ConstraintKind,
}

/// The shapes of [`Constraint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// No two rows share these fields' values (among rows meeting
    /// `condition`, an SQL expression, when given: a partial unique index).
    Unique {
        /// The fields, by Rust name.
        fields: &'static [&'static str],
        /// The rows the rule covers, as SQL (`status = 'published'`).
        condition: Option<&'static str>,
    },
    /// An index over these fields, in order.
    Index {
        /// The fields, by Rust name.
        fields: &'static [&'static str],
    },
    /// Every row meets this SQL expression (`views >= 0`).
    Check {
        /// The expression.
        sql: &'static str,
    },
}

/// When the ORM sets a date or date-time field to now, itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AutoNow {
    /// When the row is inserted (Django's `auto_now_add`).
    Create,
    /// On every save (Django's `auto_now`).
    Save,
}

/// What a file field accepts (Django's `FileField`/`ImageField` options):
/// the field stores the name a storage kept the file under; forms check an
/// upload against these rules and save it through their storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRules {
    /// The folder inside the storage (`covers/`).
    pub upload_to: &'static str,
    /// The largest upload in bytes, if limited.
    pub max_size: Option<u64>,
    /// The content types accepted (`image/png`), empty for any.
    pub content_types: &'static [&'static str],
}

/// A custom field validator: the message when the value is refused.
pub type Validator = fn(&Value) -> Result<(), String>;

/// A foreign key or one-to-one field's target.
#[derive(Debug, Clone, Copy)]
pub struct Relation {
    /// Foreign key or one-to-one.
    pub kind: RelationKind,
    /// The target model's metadata.
    pub target: fn() -> &'static ModelMeta,
    /// What deleting the target does to rows here.
    pub on_delete: OnDelete,
    /// The name of the reverse accessor on the target, when declared.
    pub related_name: Option<&'static str>,
}

/// A many-to-many relation, stored in a join table.
#[derive(Debug, Clone, Copy)]
pub struct ManyToManyMeta {
    /// The field's name on the model (`tags`).
    pub name: &'static str,
    /// The target model.
    pub target: fn() -> &'static ModelMeta,
    /// The join table (`app_article_tags`).
    pub join_table: &'static str,
    /// The join table's column pointing at this model (`article_id`).
    pub source_column: &'static str,
    /// The join table's column pointing at the target (`tag_id`).
    pub target_column: &'static str,
    /// The field's verbose name.
    pub verbose_name: &'static str,
}

/// The other side of a foreign key: a field on the target model that holds
/// the referring rows once prefetched (`pub articles: Reverse<Article>`).
#[derive(Debug, Clone, Copy)]
pub struct ReverseMeta {
    /// The field's name on this model (`articles`).
    pub name: &'static str,
    /// The model that holds the foreign key (`Article`).
    pub source: fn() -> &'static ModelMeta,
    /// The foreign key field on that model (`author`).
    pub field: &'static str,
}

/// One stored field of a model.
#[derive(Debug, Clone, Copy)]
pub struct FieldMeta {
    /// The Rust field name, used in filters (`title`).
    pub name: &'static str,
    /// The column (`title`, or `author_id` for a foreign key).
    pub column: &'static str,
    /// The value kind.
    pub kind: FieldKind,
    /// Whether this is the primary key.
    pub primary_key: bool,
    /// Whether the database assigns the value (integer primary keys).
    pub auto: bool,
    /// Whether `NULL` is allowed (the Rust type is an `Option`).
    pub null: bool,
    /// Whether an empty value passes validation.
    pub blank: bool,
    /// Whether values must be unique.
    pub unique: bool,
    /// Whether the column is indexed.
    pub index: bool,
    /// The most characters a text field takes.
    pub max_length: Option<u32>,
    /// The default value, for forms and schema.
    pub default: Option<fn() -> Value>,
    /// Allowed `(stored value, label)` pairs.
    pub choices: &'static [(&'static str, &'static str)],
    /// A human name (`"published at"`).
    pub verbose_name: &'static str,
    /// Help for forms.
    pub help_text: &'static str,
    /// The target of a foreign key or one-to-one field.
    pub relation: Option<Relation>,
    /// A custom validator for the field's value.
    pub validator: Option<Validator>,
    /// Set to now by the ORM on insert or on every save
    /// (`#[tack(auto_now_add)]`, `#[tack(auto_now)]`).
    pub auto_now: Option<AutoNow>,
    /// Whether forms and API bodies may write the field (`false` for
    /// `editable = false`, `auto_now` fields and database-assigned keys).
    pub editable: bool,
    /// The shape text values must have (`slug`, `email`, `url`).
    pub format: Option<crate::formats::TextFormat>,
    /// A file field's rules (`#[tack(file)]` on a text field).
    pub file: Option<FileRules>,
}

impl FieldMeta {
    /// A field with every option at its default, for `name` of `kind`
    /// (the derive fills the rest; hand-written models may start here).
    pub const fn new(name: &'static str, kind: FieldKind) -> Self {
        FieldMeta {
            name,
            column: name,
            kind,
            primary_key: false,
            auto: false,
            null: false,
            blank: false,
            unique: false,
            index: false,
            max_length: None,
            default: None,
            choices: &[],
            verbose_name: name,
            help_text: "",
            relation: None,
            validator: None,
            auto_now: None,
            editable: true,
            format: None,
            file: None,
        }
    }

    /// Whether a form or API body must give this field: it is editable, not
    /// nullable, has no default, may not be blank and is not assigned by the
    /// database.
    pub fn required(&self) -> bool {
        self.editable && !self.null && self.default.is_none() && !self.blank && !self.auto
    }

    /// The value a fresh object starts with: the declared default, `NULL`
    /// for nullable fields, the first choice for choice fields, and a zero
    /// value of the field's kind otherwise.
    pub fn blank_value(&self) -> Value {
        if let Some(default) = self.default {
            return default();
        }
        if self.null {
            return Value::Null;
        }
        if let Some((first, _)) = self.choices.first() {
            let first = Value::Text((*first).to_owned());
            return first.clone().coerce(self.kind).unwrap_or(first);
        }
        match self.kind {
            FieldKind::Bool => Value::Bool(false),
            FieldKind::I32 => Value::I32(0),
            FieldKind::I64 => Value::I64(0),
            FieldKind::F64 => Value::F64(0.0),
            FieldKind::Text => Value::Text(String::new()),
            FieldKind::Bytes => Value::Bytes(Vec::new()),
            FieldKind::Date => Value::Date(chrono::NaiveDate::default()),
            FieldKind::Time => Value::Time(chrono::NaiveTime::MIN),
            FieldKind::Duration => Value::Duration(chrono::TimeDelta::zero()),
            FieldKind::Decimal => Value::Decimal(rust_decimal::Decimal::ZERO),
            FieldKind::DateTime => Value::DateTime(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH),
            FieldKind::Uuid => Value::Uuid(uuid::Uuid::nil()),
            FieldKind::Json => Value::Json(serde_json::Value::Null),
        }
    }

    /// `value` converted to this field's kind, or an error that names the
    /// field (`InvalidValue`). `NULL` stays `NULL`.
    pub fn coerce(&self, value: Value) -> Result<Value> {
        value.coerce(self.kind).map_err(|e| Error::InvalidValue {
            field: self.name.to_owned(),
            message: e.to_string(),
        })
    }

    /// A value from text a person typed (a form field, a query string):
    /// trimmed, empty meaning `NULL` for nullable and non-text fields, a
    /// browser's `datetime-local` (`2024-05-01T09:30`) read as UTC, and
    /// an unchecked checkbox (no text) as `false`. Errors name the field.
    pub fn parse_input(&self, text: &str) -> Result<Value> {
        let trimmed = text.trim();
        match self.kind {
            FieldKind::Text if !(trimmed.is_empty() && self.null) => {
                Ok(Value::Text(text.to_owned()))
            }
            FieldKind::Bool if trimmed.is_empty() && !self.null => Ok(Value::Bool(false)),
            _ if trimmed.is_empty() => Ok(Value::Null),
            FieldKind::DateTime if trimmed.len() == 16 => {
                self.coerce(Value::Text(format!("{trimmed}:00")))
            }
            _ => self.coerce(Value::Text(trimmed.to_owned())),
        }
    }

    /// The text a form shows for `value`, which [`FieldMeta::parse_input`]
    /// reads back: empty for `NULL` and `false`, `on` for `true`, a
    /// browser's `datetime-local` and `time` shapes (seconds only when set).
    pub fn format_input(&self, value: &Value) -> String {
        fn seconds(second: u32, nanos: u32) -> &'static str {
            match (second, nanos) {
                (0, 0) => "%H:%M",
                (_, 0) => "%H:%M:%S",
                _ => "%H:%M:%S%.6f",
            }
        }
        use chrono::Timelike;
        match value {
            Value::Null | Value::Bool(false) => String::new(),
            Value::Bool(true) => "on".to_owned(),
            Value::Date(date) => date.format("%Y-%m-%d").to_string(),
            Value::Time(time) => time
                .format(seconds(time.second(), time.nanosecond()))
                .to_string(),
            Value::DateTime(at) => {
                let format = format!("%Y-%m-%dT{}", seconds(at.second(), at.nanosecond()));
                at.naive_utc().format(&format).to_string()
            }
            other => other.to_string(),
        }
    }

    /// Checks one value against this field's options, adding messages to `errors`.
    pub fn validate_value(&self, value: &Value, errors: &mut ValidationErrors) {
        if value.is_null() {
            if !self.null || !self.blank {
                errors.add(self.name, "this field is required");
            }
            return;
        }
        if let Value::Text(text) = value {
            if text.is_empty() && !self.blank {
                errors.add(self.name, "this field cannot be blank");
            }
            if let Some(max) = self.max_length {
                let count = text.chars().count();
                if count > max as usize {
                    errors.add(
                        self.name,
                        format!("at most {max} characters allowed (it has {count})"),
                    );
                }
            }
            if let Some(format) = self.format
                && !text.is_empty()
                && let Err(message) = format.check(text)
            {
                errors.add(self.name, message);
            }
            let allowed_blank = text.is_empty() && self.blank;
            let listed = self.choices.iter().any(|(stored, _)| stored == text);
            if !self.choices.is_empty() && !allowed_blank && !listed {
                let allowed: Vec<&str> = self.choices.iter().map(|(s, _)| *s).collect();
                errors.add(
                    self.name,
                    format!("{text:?} is not one of the choices: {}", allowed.join(", ")),
                );
            }
        }
        if let (Value::I64(_) | Value::I32(_), false) = (value, self.choices.is_empty()) {
            let stored = value.to_string();
            if !self.choices.iter().any(|(s, _)| *s == stored) {
                let allowed: Vec<&str> = self.choices.iter().map(|(s, _)| *s).collect();
                errors.add(
                    self.name,
                    format!("{stored} is not one of the choices: {}", allowed.join(", ")),
                );
            }
        }
        if let Some(validator) = self.validator
            && let Err(message) = validator(value)
        {
            errors.add(self.name, message);
        }
    }
}

/// Everything the ORM, the CRUD controller, the admin and migrations know
/// about a model, built at compile time by `#[derive(Model)]`.
#[derive(Debug)]
pub struct ModelMeta {
    /// The Rust type's name (`Article`).
    pub name: &'static str,
    /// The application label (`newsroom`).
    pub app: &'static str,
    /// The table (`newsroom_article`).
    pub table: &'static str,
    /// A human name (`"article"`).
    pub verbose_name: &'static str,
    /// Its plural (`"articles"`).
    pub verbose_name_plural: &'static str,
    /// Stored fields in column order.
    pub fields: &'static [FieldMeta],
    /// The index of the primary key in `fields`.
    pub pk: usize,
    /// Many-to-many relations.
    pub many_to_many: &'static [ManyToManyMeta],
    /// Reverse foreign keys declared with `Reverse<T>` fields.
    pub reverse: &'static [ReverseMeta],
    /// Decodes a model from a row starting at a column, boxed (used for
    /// `select_related` and `prefetch_related`).
    pub decode: fn(&Row<'_>, usize) -> Result<Box<dyn Any + Send>>,
    /// Caches a related object on a boxed model of this type (nested
    /// `select_related`).
    pub set_related: fn(&mut dyn Any, &str, Related) -> Result<()>,
    /// The model's single-row statements, built once per dialect.
    pub statements: StatementCache,
    /// The typed operations behind [`ModelMeta::handle`] (the derive fills it).
    #[doc(hidden)]
    pub ops: &'static dyn crate::handle::ModelOps,
    /// The default order of query sets (`"-published_at,title"`; empty for
    /// none), as `#[tack(ordering = "...")]` sets it.
    pub ordering: &'static str,
    /// Table-level constraints and indexes (`unique_together`, `unique(..)`,
    /// `index(..)`, `check(..)`).
    pub constraints: &'static [Constraint],
}

/// The kept SELECTs of one model, by query shape.
type Selects = HashMap<Box<[u8]>, Arc<SelectShape>, BuildHasherDefault<ShapeHasher>>;

/// A quick hash for the short shape keys (SipHash's resistance to chosen
/// keys is not needed: a model keeps at most 256 of them).
#[derive(Default)]
struct ShapeHasher(u64);

impl Hasher for ShapeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut add = |word: u64| {
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
        };
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            add(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            add(u64::from(byte));
        }
    }
}

/// The statements every model runs most (insert, update, fetch and delete
/// by primary key), built on first use per dialect and kept for the life of
/// the program: no lock and no hashing on the hot path. Query sets' SELECTs
/// are kept too, by the shape of the query (never its values), up to 256
/// of them.
#[derive(Debug)]
pub struct StatementCache {
    slots: [std::sync::OnceLock<String>; 10],
    selects: Mutex<Option<Selects>>,
}

impl StatementCache {
    /// How many query shapes a model keeps the SELECT of; when more
    /// arrive, the kept ones are dropped and built again on use.
    const MAX_SELECTS: usize = 256;

    /// An empty cache (the derive puts one in every model's metadata).
    pub const fn new() -> Self {
        StatementCache {
            slots: [const { std::sync::OnceLock::new() }; 10],
            selects: Mutex::new(None),
        }
    }

    fn selects(&self) -> std::sync::MutexGuard<'_, Option<Selects>> {
        // A panic elsewhere cannot leave the map half-changed: recover it.
        self.selects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The SELECT kept for the query shape `key`.
    pub(crate) fn select(&self, key: &[u8]) -> Option<Arc<SelectShape>> {
        self.selects().as_ref()?.get(key).cloned()
    }

    /// Keeps the SELECT built for the query shape `key`.
    pub(crate) fn keep_select(&self, key: Vec<u8>, shape: Arc<SelectShape>) {
        let mut selects = self.selects();
        let selects = selects.get_or_insert_with(Selects::default);
        if selects.len() >= Self::MAX_SELECTS {
            selects.clear();
        }
        selects.insert(key.into_boxed_slice(), shape);
    }

    pub(crate) fn get(
        &self,
        shape: Statement,
        dialect: crate::Dialect,
        build: impl FnOnce() -> String,
    ) -> &str {
        let column = match dialect {
            crate::Dialect::Sqlite => 0,
            crate::Dialect::Postgres => 1,
        };
        self.slots[shape as usize * 2 + column].get_or_init(build)
    }
}

impl Default for StatementCache {
    fn default() -> Self {
        Self::new()
    }
}

/// The statement shapes a [`StatementCache`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Statement {
    Insert = 0,
    InsertPk = 1,
    Update = 2,
    ByPk = 3,
    Delete = 4,
}

impl ModelMeta {
    /// The handle through which generic code (forms, the admin, the CRUD
    /// views) lists, reads, writes and deletes rows of this model by field
    /// name, without knowing its Rust type.
    pub fn handle(&'static self) -> crate::handle::ModelHandle {
        crate::handle::ModelHandle::new(self)
    }

    /// The fields a create form or body must give ([`FieldMeta::required`]).
    pub fn required_fields(&self) -> impl Iterator<Item = &'static FieldMeta> + use<> {
        let fields: &'static [FieldMeta] = self.fields;
        fields.iter().filter(|f| f.required())
    }

    /// Every field's [`FieldMeta::blank_value`], in field order.
    pub fn blank_values(&self) -> Vec<Value> {
        self.fields.iter().map(FieldMeta::blank_value).collect()
    }

    /// Every set of fields whose values must be unique together, with the
    /// constraint's name: single unique fields (named `table.column`, as
    /// SQLite reports them) and the model's unique constraints.
    pub fn unique_sets(&self) -> Vec<(String, Vec<&'static FieldMeta>)> {
        let mut sets = Vec::new();
        for field in self.fields {
            let one_to_one = crate::query::is_one_to_one(field);
            if (field.unique || one_to_one || field.primary_key) && !field.auto {
                sets.push((format!("{}.{}", self.table, field.column), vec![field]));
            }
        }
        for constraint in self.constraints {
            if let ConstraintKind::Unique { fields, .. } = constraint.kind {
                let fields = fields.iter().filter_map(|name| self.field(name)).collect();
                sets.push((constraint.name.to_owned(), fields));
            }
        }
        sets
    }

    /// What a form or API says when `fields` are taken together, as Django
    /// says it: `Article with this Slug already exists.`, `Entry with this
    /// Author and Slug already exists.`
    pub fn unique_message(&self, fields: &[&FieldMeta]) -> String {
        let capfirst = |text: &str| {
            let mut chars = text.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        };
        let names: Vec<String> = fields.iter().map(|f| capfirst(f.verbose_name)).collect();
        let names = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::from("values"),
        };
        format!(
            "{} with this {names} already exists.",
            capfirst(self.verbose_name)
        )
    }

    /// The fields a unique constraint the database named covers: a
    /// constraint's or unique index's name (PostgreSQL), or `table.column`
    /// lists (SQLite).
    pub fn unique_violation_fields(&self, constraint: &str) -> Vec<&'static FieldMeta> {
        if let Some(found) = self.constraints.iter().find(|c| c.name == constraint)
            && let ConstraintKind::Unique { fields, .. } = found.kind
        {
            return fields.iter().filter_map(|name| self.field(name)).collect();
        }
        let fields: &'static [FieldMeta] = self.fields;
        let listed: Vec<&'static FieldMeta> = constraint
            .split(',')
            .filter_map(|part| part.trim().strip_prefix(self.table)?.strip_prefix('.'))
            .filter_map(|column| fields.iter().find(|f| f.column == column))
            .collect();
        if !listed.is_empty() {
            return listed;
        }
        // PostgreSQL's names for single-column constraints and our indexes.
        fields
            .iter()
            .filter(|f| {
                constraint == format!("{}_{}_key", self.table, f.column)
                    || constraint == format!("{}_{}_uniq", self.table, f.column)
                    || constraint == format!("{}_pkey", self.table) && f.primary_key
            })
            .collect()
    }

    /// The default order of query sets, parsed from [`ModelMeta::ordering`].
    pub fn default_order(&self) -> Vec<crate::expr::Order> {
        self.ordering
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(crate::expr::Order::parse)
            .collect()
    }

    /// The primary key field.
    pub fn pk_field(&self) -> &'static FieldMeta {
        &self.fields[self.pk]
    }

    /// A field by its Rust name or its column.
    pub fn field(&self, name: &str) -> Option<&'static FieldMeta> {
        let fields: &'static [FieldMeta] = self.fields;
        fields
            .iter()
            .find(|f| f.name == name)
            .or_else(|| fields.iter().find(|f| f.column == name))
            .or_else(|| (name == "pk").then(|| &fields[self.pk]))
    }

    /// A field by name, or an error naming the model and its fields.
    pub fn try_field(&self, name: &str) -> Result<&'static FieldMeta> {
        self.field(name).ok_or_else(|| self.unknown_field(name))
    }

    /// A many-to-many relation by name.
    pub fn many_to_many(&self, name: &str) -> Option<&'static ManyToManyMeta> {
        let m2m: &'static [ManyToManyMeta] = self.many_to_many;
        m2m.iter().find(|m| m.name == name)
    }

    /// A reverse relation by name.
    pub fn reverse(&self, name: &str) -> Option<&'static ReverseMeta> {
        let reverse: &'static [ReverseMeta] = self.reverse;
        reverse.iter().find(|r| r.name == name)
    }

    pub(crate) fn unknown_field(&self, name: &str) -> Error {
        let mut names: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
        names.extend(self.many_to_many.iter().map(|m| m.name));
        names.extend(self.reverse.iter().map(|r| r.name));
        Error::UnknownField {
            model: self.name,
            field: name.to_owned(),
            hint: format!(" (its fields: {})", names.join(", ")),
        }
    }
}

/// A value a relation field can cache after `select_related` or
/// `prefetch_related`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Related {
    /// The one related object (or none, for a null foreign key).
    One(Option<Box<dyn Any + Send>>),
    /// The related objects of a many-to-many relation.
    Many(Vec<Box<dyn Any + Send>>),
}

/// A database table mapped to a Rust struct. Implement it with
/// `#[derive(Model)]`.
pub trait Model: Clone + Send + Sized + 'static {
    /// The primary key's Rust type.
    type Pk: FieldType + Clone + Send + Sync + 'static;

    /// The model's metadata.
    fn meta() -> &'static ModelMeta;

    /// Reads a model from `row`, its fields starting at column `offset` in
    /// metadata order.
    fn from_row(row: &Row<'_>, offset: usize) -> Result<Self>;

    /// Every stored field's value, in metadata order.
    fn to_values(&self) -> Vec<Value>;

    /// One field's value by Rust name (`None` when there is no such field).
    fn get_value(&self, field: &str) -> Option<Value>;

    /// Sets one field from a value, converting it to the field's type.
    fn set_value(&mut self, field: &str, value: Value) -> Result<()>;

    /// The primary key.
    fn pk(&self) -> Self::Pk;

    /// Caches a related object on a relation field (after `select_related` or
    /// `prefetch_related`); errors when `field` is no relation.
    fn set_related(&mut self, field: &str, related: Related) -> Result<()>;

    /// Whole-model checks beyond the field options (set with
    /// `#[tack(clean = "path")]`).
    fn clean(&self, _errors: &mut ValidationErrors) {}

    /// The object as people read it (Django's `__str__`): set with
    /// `#[tack(display = "{title}")]`, or `#[tack(display)]` to use the
    /// model's `std::fmt::Display`; by default `Article object (3)`.
    fn display(&self) -> String {
        format!("{} object ({})", Self::meta().name, self.pk().to_value())
    }

    /// Checks every field's options and the custom validators.
    fn validate(&self) -> Result<(), ValidationErrors> {
        validate_values(self, &self.to_values())
    }

    /// A query set over every row of this model.
    fn objects() -> QuerySet<Self> {
        QuerySet::new()
    }
}

/// Validates `model` whose values (from `to_values`) are `values`.
pub(crate) fn validate_values<M: Model>(
    model: &M,
    values: &[Value],
) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    for (field, value) in M::meta().fields.iter().zip(values) {
        if field.auto && is_unset(value) {
            continue;
        }
        field.validate_value(value, &mut errors);
    }
    model.clean(&mut errors);
    errors.into_result()
}

/// Whether a primary key value means "not saved yet" (`0`, or `NULL`).
pub(crate) fn is_unset(value: &Value) -> bool {
    matches!(value, Value::Null | Value::I64(0) | Value::I32(0))
}

/// A Rust enum stored as text, one string per variant. Implement it with
/// `#[derive(Choices)]`.
pub trait Choices: Sized + Copy + 'static {
    /// `(stored value, label)` for every variant, in declaration order.
    const CHOICES: &'static [(&'static str, &'static str)];

    /// The stored string.
    fn as_str(&self) -> &'static str;

    /// The variant stored as `text`.
    fn from_str_value(text: &str) -> Option<Self>;

    /// The human label.
    fn label(&self) -> &'static str {
        let stored = self.as_str();
        Self::CHOICES
            .iter()
            .find(|(s, _)| *s == stored)
            .map_or(stored, |(_, label)| label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_text_reads_back() {
        let at = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let cases = [
            (FieldKind::Bool, Value::Bool(true), "on"),
            (FieldKind::Bool, Value::Bool(false), ""),
            (FieldKind::Date, Value::Date(at), "2024-05-01"),
            (
                FieldKind::DateTime,
                Value::DateTime(at.and_hms_opt(9, 30, 0).unwrap().and_utc()),
                "2024-05-01T09:30",
            ),
            (
                FieldKind::DateTime,
                Value::DateTime(at.and_hms_opt(9, 30, 5).unwrap().and_utc()),
                "2024-05-01T09:30:05",
            ),
            (
                FieldKind::Time,
                Value::Time(chrono::NaiveTime::from_hms_opt(7, 5, 0).unwrap()),
                "07:05",
            ),
            (FieldKind::I64, Value::I64(-3), "-3"),
            (FieldKind::Text, Value::Text("hi".into()), "hi"),
        ];
        for (kind, value, text) in cases {
            let field = FieldMeta::new("f", kind);
            assert_eq!(field.format_input(&value), text, "{kind:?}");
            assert_eq!(field.parse_input(text).unwrap(), value, "{kind:?} back");
        }
    }
}
