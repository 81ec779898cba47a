//! Model forms: a form built from any model's fields through the ORM's
//! model handle, saved in one transaction with its many-to-many ids.

use tack_orm::{
    Connection, Executor, FieldKind as OrmKind, FieldMeta, Instance, ListQuery, ManyToManyMeta,
    ModelHandle, ModelMeta, TextFormat, ValidationErrors, Value,
};

use std::sync::Arc;

use crate::Error;
use crate::data::{FormData, UploadedFile};
use crate::field::{Field, FieldKind, Widget};
use crate::form::{Errors, FormState};
use crate::storage::Storage;

/// The label of the empty option of a select (Django's `---------`).
pub const EMPTY_LABEL: &str = "---------";

/// How to build a form for one model: which fields, which are read-only,
/// which widgets, where uploads go. Cheap to clone; keep one per view.
#[derive(Debug, Clone)]
pub struct ModelForm {
    handle: ModelHandle,
    fields: Option<Vec<String>>,
    exclude: Vec<String>,
    readonly: Vec<String>,
    widgets: Vec<(String, Widget)>,
    prefix: Option<String>,
    storage: Option<SharedStorage>,
}

/// The storage file fields save through.
#[derive(Clone)]
struct SharedStorage(Arc<dyn Storage>);

impl std::fmt::Debug for SharedStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Storage")
    }
}

impl ModelForm {
    /// A form of every editable field of the model (primary keys the
    /// database assigns, `editable = false` and `auto_now` fields are left out).
    pub fn new(handle: ModelHandle) -> ModelForm {
        ModelForm {
            handle,
            fields: None,
            exclude: Vec::new(),
            readonly: Vec::new(),
            widgets: Vec::new(),
            prefix: None,
            storage: None,
        }
    }

    /// Where the model's file fields (`#[tack(file)]`) keep their uploads;
    /// a form with a file field needs one to save an upload.
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> ModelForm {
        self.storage = Some(SharedStorage(storage));
        self
    }

    /// The form for model `M`.
    pub fn of<M: tack_orm::Model>() -> ModelForm {
        ModelForm::new(ModelHandle::of::<M>())
    }

    /// Only these fields, in this order (columns or many-to-many names).
    ///
    /// # Panics
    /// When a name is not an editable field of the model: a mistake in the
    /// code, found the first time it runs.
    pub fn fields(mut self, names: &[&str]) -> ModelForm {
        for name in names {
            self.check_name(name);
        }
        self.fields = Some(names.iter().map(|n| (*n).to_owned()).collect());
        self
    }

    /// Every editable field but these.
    pub fn exclude(mut self, names: &[&str]) -> ModelForm {
        self.exclude.extend(names.iter().map(|n| (*n).to_owned()));
        self
    }

    /// Shown, never changed by what is submitted.
    pub fn readonly(mut self, names: &[&str]) -> ModelForm {
        for name in names {
            self.check_name(name);
        }
        self.readonly.extend(names.iter().map(|n| (*n).to_owned()));
        self
    }

    /// Draws a field with another widget.
    pub fn widget(mut self, name: &str, widget: Widget) -> ModelForm {
        self.check_name(name);
        self.widgets.push((name.to_owned(), widget));
        self
    }

    /// Names the fields `{prefix}-{name}`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> ModelForm {
        self.prefix = Some(prefix.into());
        self
    }

    /// The model.
    pub fn handle(&self) -> ModelHandle {
        self.handle
    }

    fn check_name(&self, name: &str) {
        let meta = self.handle.meta();
        let column = meta.fields.iter().any(|f| f.name == name && editable(f));
        let many = meta.many_to_many.iter().any(|m| m.name == name);
        assert!(
            column || many,
            "{name} is not an editable field of {}; the editable fields are {}",
            meta.name,
            self.all_names().join(", ")
        );
    }

    fn all_names(&self) -> Vec<&'static str> {
        let meta = self.handle.meta();
        meta.fields
            .iter()
            .filter(|f| editable(f))
            .map(|f| f.name)
            .chain(meta.many_to_many.iter().map(|m| m.name))
            .collect()
    }

    /// The names of the form's fields, in order.
    pub fn field_names(&self) -> Vec<String> {
        match &self.fields {
            Some(names) => names.clone(),
            None => self.all_names().into_iter().map(str::to_owned).collect(),
        }
        .into_iter()
        .filter(|n| !self.exclude.contains(n))
        .collect()
    }

    /// The unbound form showing `instance` (or a blank object: each field's
    /// default). Reads the options of foreign keys and many-to-many fields.
    pub fn form(
        &self,
        exec: &impl Executor,
        instance: Option<Instance>,
    ) -> Result<BoundModelForm, Error> {
        let instance = instance.unwrap_or_else(|| self.handle.blank());
        let many = self.initial_many(exec, &instance)?;
        let state = self.state(exec, &instance, &many)?;
        Ok(BoundModelForm {
            form: self.clone(),
            state,
            instance,
            many,
            uploads: Vec::new(),
            stored: Vec::new(),
        })
    }

    /// The form bound to `data` and checked against `instance` (a saved
    /// object to update, or a new one, perhaps with fields the view sets
    /// itself such as the author): each field's checks, the model's
    /// validation and its unique constraints. Nothing is written.
    pub fn bind(
        &self,
        exec: &impl Executor,
        data: &FormData,
        instance: Option<Instance>,
    ) -> Result<BoundModelForm, Error> {
        let mut form = self.form(exec, instance)?;
        form.state.bind(data);
        form.apply(data);
        form.check(exec)?;
        Ok(form)
    }

    fn initial_many(
        &self,
        exec: &impl Executor,
        instance: &Instance,
    ) -> Result<Vec<(&'static ManyToManyMeta, Vec<Value>)>, Error> {
        let names = self.field_names();
        let meta = self.handle.meta();
        let mut many = Vec::new();
        for m2m in meta
            .many_to_many
            .iter()
            .filter(|m| names.iter().any(|n| n == m.name))
        {
            let ids = if instance.is_saved() {
                self.handle.many_ids(exec, m2m.name, instance.pk())?
            } else {
                Vec::new()
            };
            many.push((m2m, ids));
        }
        Ok(many)
    }

    fn state(
        &self,
        exec: &impl Executor,
        instance: &Instance,
        many: &[(&'static ManyToManyMeta, Vec<Value>)],
    ) -> Result<FormState, Error> {
        let meta = self.handle.meta();
        let mut fields = Vec::new();
        for name in self.field_names() {
            let mut field = if let Some(column) = meta.fields.iter().find(|f| f.name == name) {
                let value = instance.get(&name).cloned().unwrap_or(Value::Null);
                let mut field = column_field(exec, column, &value)?;
                if column.file.is_some() {
                    let stored = field.initial.first().cloned();
                    if let Some(stored) = stored {
                        // The stored file satisfies a required field.
                        field.required = false;
                        field.file_url = self.storage.as_ref().map(|s| s.0.url(&stored));
                    }
                }
                field
            } else {
                let (m2m, ids) = many
                    .iter()
                    .find(|(m, _)| m.name == name)
                    .expect("field_names holds columns and many-to-many names only");
                many_field(exec, m2m, ids)?
            };
            if self.readonly.contains(&name) {
                field.disabled = true;
                field.required = false;
            }
            if let Some((_, widget)) = self.widgets.iter().find(|(n, _)| *n == name) {
                field.widget = widget.clone();
            }
            fields.push(field);
        }
        let mut state = FormState::new(fields);
        if let Some(prefix) = &self.prefix {
            state.set_prefix(prefix.clone());
        }
        Ok(state)
    }
}

fn editable(field: &FieldMeta) -> bool {
    field.editable && !field.auto && field.auto_now.is_none()
}

/// The form field for one column, its initial text from `value`.
fn column_field(exec: &impl Executor, meta: &FieldMeta, value: &Value) -> Result<Field, Error> {
    let kind = match (meta.kind, meta.format) {
        _ if meta.file.is_some() => FieldKind::File,
        _ if meta.relation.is_some() || !meta.choices.is_empty() => FieldKind::Choice,
        (OrmKind::Bool, _) => FieldKind::Boolean,
        (OrmKind::I32 | OrmKind::I64, _) => FieldKind::Integer,
        (OrmKind::F64 | OrmKind::Decimal, _) => FieldKind::Float,
        (OrmKind::Date, _) => FieldKind::Date,
        (OrmKind::DateTime, _) => FieldKind::DateTime,
        (OrmKind::Time, _) => FieldKind::Time,
        (_, Some(TextFormat::Email)) => FieldKind::Email,
        (_, Some(TextFormat::Url)) => FieldKind::Url,
        (_, Some(TextFormat::Slug)) => FieldKind::Slug,
        _ => FieldKind::Text,
    };
    let mut field = Field::new(meta.name, kind)
        .label(crate::pretty_name(meta.verbose_name))
        .help_text(meta.help_text)
        .required(!meta.blank && kind != FieldKind::Boolean);
    if let Some(max) = meta.max_length {
        field = field.max_length(max as usize);
    }
    let long_text = matches!(meta.kind, OrmKind::Text | OrmKind::Json)
        && kind == FieldKind::Text
        && meta.max_length.is_none();
    if long_text {
        field.widget = Widget::named("textarea");
    }
    if let Some(rules) = meta.file {
        field.widget = Widget::named("clearable_file");
        if !rules.content_types.is_empty() {
            field.widget = field.widget.attr("accept", rules.content_types.join(","));
        }
    }
    if let Some(relation) = meta.relation {
        let target = (relation.target)();
        field.choices = options(exec, target, true)?;
    } else if !meta.choices.is_empty() {
        let blank = (!field.required || value.is_null()).then(|| crate::Choice {
            value: String::new(),
            label: EMPTY_LABEL.to_owned(),
        });
        field.choices = blank
            .into_iter()
            .chain(meta.choices.iter().map(|(stored, label)| crate::Choice {
                value: (*stored).to_owned(),
                label: (*label).to_owned(),
            }))
            .collect();
    }
    let text = meta.format_input(value);
    field.initial = if text.is_empty() {
        Vec::new()
    } else {
        vec![text]
    };
    Ok(field)
}

/// The multi-select for a many-to-many field, its initial selection `ids`.
fn many_field(exec: &impl Executor, m2m: &ManyToManyMeta, ids: &[Value]) -> Result<Field, Error> {
    let target = (m2m.target)();
    let pk = &target.fields[target.pk];
    let mut field = Field::new(m2m.name, FieldKind::MultipleChoice)
        .label(crate::pretty_name(m2m.verbose_name))
        .required(false);
    field.choices = options(exec, target, false)?;
    field.initial = ids.iter().map(|id| pk.format_input(id)).collect();
    Ok(field)
}

/// Every row of `target` as an option labelled by its display string.
fn options(
    exec: &impl Executor,
    target: &'static ModelMeta,
    with_empty: bool,
) -> Result<Vec<crate::Choice>, Error> {
    let handle = target.handle();
    let pk = &target.fields[target.pk];
    let mut choices = Vec::new();
    if with_empty {
        choices.push(crate::Choice {
            value: String::new(),
            label: EMPTY_LABEL.to_owned(),
        });
    }
    for row in handle.list(exec, &ListQuery::new())? {
        choices.push(crate::Choice {
            value: pk.format_input(row.pk()),
            label: handle.display(&row)?,
        });
    }
    Ok(choices)
}

/// A model form with its object: shown, or bound to data and checked.
#[derive(Debug, Clone)]
pub struct BoundModelForm {
    form: ModelForm,
    state: FormState,
    instance: Instance,
    many: Vec<(&'static ManyToManyMeta, Vec<Value>)>,
    /// Uploads that passed their checks, saved to storage on `save`.
    uploads: Vec<(&'static FieldMeta, UploadedFile)>,
    /// What the last successful `save` stored, to remove if an enclosing
    /// transaction rolls back.
    stored: Vec<String>,
}

impl BoundModelForm {
    /// Whether the form is bound and valid.
    pub fn is_valid(&self) -> bool {
        self.state.is_valid()
    }

    /// The errors.
    pub fn errors(&self) -> &Errors {
        self.state.errors()
    }

    /// Adds an error: `None` puts it on the whole form.
    pub fn add_error(&mut self, field: Option<&str>, message: impl Into<String>) {
        self.state.add_error(field, message);
    }

    /// The object with the submitted values applied (saved or not).
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// The object, to set fields the form does not show before saving.
    pub fn instance_mut(&mut self) -> &mut Instance {
        &mut self.instance
    }

    /// The many-to-many ids the form holds, by field name.
    pub fn many_ids(&self, field: &str) -> Option<&[Value]> {
        self.many
            .iter()
            .find(|(m, _)| m.name == field)
            .map(|(_, ids)| ids.as_slice())
    }

    /// The untyped state (fields, data, errors).
    pub fn state(&self) -> &FormState {
        &self.state
    }

    /// The untyped state, to change fields before rendering.
    pub fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }

    /// The form as a template value.
    pub fn view(&self) -> minijinja::Value {
        self.state.view()
    }

    /// Puts the submitted texts on the object, each through its field's
    /// parser; a text that does not parse is an error beside its field.
    fn apply(&mut self, data: &FormData) {
        let meta = self.form.handle.meta();
        let fields: Vec<(String, bool)> = self
            .state
            .fields()
            .iter()
            .map(|f| (f.name.clone(), f.disabled))
            .collect();
        for (name, disabled) in fields {
            if disabled || !self.state.errors().field(&name).is_empty() {
                continue;
            }
            let input = self.state.input(&name);
            if let Some(column) = meta
                .fields
                .iter()
                .find(|f| f.name == name && f.file.is_some())
            {
                let upload = input.file.cloned();
                let clear = data
                    .get(&self.state.html_name(&format!("{name}-clear")))
                    .is_some_and(crate::field::is_checked);
                self.apply_file(column, upload, clear);
                continue;
            }
            if let Some(column) = meta.fields.iter().find(|f| f.name == name) {
                // A saved object's primary key is never changed by a form
                // (a formset's hidden id field only says which row it is).
                if column.primary_key && self.instance.is_saved() {
                    continue;
                }
                let parsed = if column.kind == OrmKind::Bool {
                    Ok(Value::Bool(crate::field::is_checked(input.text())))
                } else {
                    column.parse_input(input.text())
                };
                match parsed {
                    Ok(value) => {
                        // The field exists: `set` fails only for unknown names.
                        let _ = self.instance.set(&name, value);
                    }
                    Err(error) => self.state.errors_mut().add(&name, invalid(&error)),
                }
            } else if let Some((m2m, ids)) = self.many.iter_mut().find(|(m, _)| m.name == name) {
                let target = (m2m.target)();
                let pk = &target.fields[target.pk];
                let parsed: Result<Vec<Value>, _> = input
                    .values
                    .iter()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| pk.parse_input(v))
                    .collect();
                match parsed {
                    Ok(parsed) => *ids = parsed,
                    Err(error) => self.state.errors_mut().add(&name, invalid(&error)),
                }
            }
        }
    }

    /// An upload checked against the field's rules (kept for `save`), or
    /// the stored file cleared.
    fn apply_file(
        &mut self,
        column: &'static FieldMeta,
        upload: Option<UploadedFile>,
        clear: bool,
    ) {
        let rules = column.file.expect("apply_file is called for file fields");
        let Some(upload) = upload else {
            if clear {
                let empty = if column.null {
                    Value::Null
                } else {
                    Value::Text(String::new())
                };
                let _ = self.instance.set(column.name, empty);
                if self
                    .state
                    .field(column.name)
                    .is_some_and(|f| !column.blank && f.kind == FieldKind::File)
                {
                    self.state
                        .errors_mut()
                        .add(column.name, "This field is required.");
                }
            }
            return;
        };
        if let Some(message) = upload_problem(&rules, &upload) {
            self.state.errors_mut().add(column.name, message);
            return;
        }
        if clear {
            self.state.errors_mut().add(
                column.name,
                "Please either submit a file or check the clear checkbox, not both.",
            );
            return;
        }
        self.uploads.push((column, upload));
    }

    /// The model's validation (once every field is valid) and its unique
    /// constraints (on the fields that are), as form errors.
    fn check(&mut self, exec: &impl Executor) -> Result<(), Error> {
        let names: Vec<String> = self.state.fields().iter().map(|f| f.name.clone()).collect();
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let handle = self.form.handle;
        if self.state.errors().is_empty()
            && let Err(errors) = handle.validate(&self.instance)
        {
            self.state.errors_mut().extend_from(&errors, &known);
            return Ok(());
        }
        let conflicts = handle.unique_conflicts(exec, &self.instance, !self.instance.is_saved())?;
        let mut fresh = ValidationErrors::new();
        for (field, messages) in conflicts.fields() {
            if self.state.errors().field(field).is_empty() {
                for message in messages {
                    fresh.add(field.clone(), message.clone());
                }
            }
        }
        self.state.errors_mut().extend_from(&fresh, &known);
        Ok(())
    }

    /// Saves the object and its many-to-many ids in one transaction and
    /// answers it as stored, or `None` when the form is invalid (the errors
    /// are on the form, nothing was written). A refusal by the database (a
    /// unique value taken since the form was checked) becomes an error
    /// beside the field.
    pub fn save(&mut self, conn: &Connection) -> Result<Option<Instance>, Error> {
        if !self.is_valid() {
            return Ok(None);
        }
        let handle = self.form.handle;
        let creating = !self.instance.is_saved();
        let mut instance = self.instance.clone();
        let stored = self.store_uploads(&mut instance)?;
        let many = self.many.clone();
        let saved = conn.atomic(|tx| {
            if creating {
                handle.create(tx, &mut instance)?;
            } else {
                handle.update(tx, &mut instance)?;
            }
            for (m2m, ids) in &many {
                handle.set_many_ids(tx, m2m.name, instance.pk(), ids)?;
            }
            handle.get(tx, instance.pk())
        });
        match saved {
            Ok(row) => {
                self.instance = row.clone();
                self.uploads.clear();
                self.stored = stored;
                Ok(Some(row))
            }
            Err(error) => {
                self.forget(&stored);
                let meta = handle.meta();
                let names: Vec<String> =
                    self.state.fields().iter().map(|f| f.name.clone()).collect();
                let known: Vec<&str> = names.iter().map(String::as_str).collect();
                match error {
                    tack_orm::Error::Validation { errors, .. } => {
                        self.state.errors_mut().extend_from(&errors, &known);
                    }
                    tack_orm::Error::UniqueViolation { constraint, .. } => {
                        let fields = meta.unique_violation_fields(&constraint);
                        let message = meta.unique_message(&fields);
                        let mut errors = ValidationErrors::new();
                        for field in &fields {
                            errors.add(field.name, message.clone());
                        }
                        if fields.is_empty() {
                            self.state.errors_mut().add_form(message);
                        }
                        self.state.errors_mut().extend_from(&errors, &known);
                    }
                    tack_orm::Error::Integrity { message, .. } => {
                        self.state
                            .errors_mut()
                            .add_form(format!("The database refused the change: {message}"));
                    }
                    other => return Err(Error::Database(other)),
                }
                Ok(None)
            }
        }
    }
}

impl BoundModelForm {
    /// Saves the object and its inline formsets (the comments under an
    /// article) in one transaction: the object first, so new child rows
    /// point at its key, then each set. Answers `None`, with nothing
    /// written (and no upload kept), when the form or any set is invalid or
    /// the database refuses a row; the errors are on the forms.
    pub fn save_with_inlines(
        &mut self,
        conn: &Connection,
        inlines: &mut [&mut crate::BoundInlineFormSet],
    ) -> Result<Option<Instance>, Error> {
        enum Abort {
            Invalid,
            Failed(Error),
        }
        impl From<tack_orm::Error> for Abort {
            fn from(error: tack_orm::Error) -> Self {
                Abort::Failed(Error::Database(error))
            }
        }
        if !self.is_valid() || inlines.iter().any(|set| !set.is_valid()) {
            return Ok(None);
        }
        let before = self.instance.clone();
        let outcome = conn.atomic(|tx| {
            let Some(parent) = self.save(tx).map_err(Abort::Failed)? else {
                return Err(Abort::Invalid);
            };
            for set in inlines.iter_mut() {
                if !set.save(tx, &parent).map_err(Abort::Failed)? {
                    return Err(Abort::Invalid);
                }
            }
            Ok(parent)
        });
        match outcome {
            Ok(parent) => Ok(Some(parent)),
            Err(abort) => {
                // The rows were rolled back: so go the files and the key.
                let stored = std::mem::take(&mut self.stored);
                self.forget(&stored);
                self.instance = before;
                match abort {
                    Abort::Invalid => Ok(None),
                    Abort::Failed(error) => Err(error),
                }
            }
        }
    }

    /// Saves each checked upload through the storage and points its field
    /// at the stored name; answers the names, to remove if the write fails.
    fn store_uploads(&self, instance: &mut Instance) -> Result<Vec<String>, Error> {
        if self.uploads.is_empty() {
            return Ok(Vec::new());
        }
        let Some(storage) = &self.form.storage else {
            return Err(Error::Storage {
                name: self.uploads[0].1.file_name.clone(),
                message: format!(
                    "{} has a file field: give its ModelForm a storage (ModelForm::storage)",
                    self.form.handle.meta().name
                ),
            });
        };
        let mut stored = Vec::new();
        for (column, upload) in &self.uploads {
            let rules = column.file.expect("uploads are kept for file fields only");
            match storage
                .0
                .save(&format!("{}{}", rules.upload_to, upload.file_name), upload)
            {
                Ok(name) => {
                    let _ = instance.set(column.name, Value::Text(name.clone()));
                    stored.push(name);
                }
                Err(error) => {
                    self.forget(&stored);
                    return Err(error);
                }
            }
        }
        Ok(stored)
    }

    /// Removes files stored for a write that did not happen.
    fn forget(&self, stored: &[String]) {
        if let Some(storage) = &self.form.storage {
            for name in stored {
                if let Err(error) = storage.0.delete(name) {
                    tracing::warn!(%error, name, "an upload of a failed write could not be removed");
                }
            }
        }
    }
}

/// Why an upload does not fit the field's rules, in Django's words.
fn upload_problem(rules: &tack_orm::FileRules, upload: &UploadedFile) -> Option<String> {
    if upload.size == 0 {
        return Some("The submitted file is empty.".to_owned());
    }
    if let Some(max) = rules.max_size
        && upload.size > max
    {
        return Some(format!(
            "Ensure this file has at most {max} bytes (it has {}).",
            upload.size
        ));
    }
    let claimed = upload
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !rules.content_types.is_empty()
        && !rules
            .content_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&claimed))
    {
        return Some(format!(
            "Upload a valid file: {claimed} is not one of {}.",
            rules.content_types.join(", ")
        ));
    }
    if claimed.starts_with("image/") && !looks_like(&claimed, upload) {
        return Some(
            "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
                .to_owned(),
        );
    }
    None
}

/// Whether the first bytes of an upload are those of the image type it
/// claims (PNG, JPEG, GIF, WebP); other types are taken at their word.
fn looks_like(content_type: &str, upload: &UploadedFile) -> bool {
    let mut head = [0u8; 12];
    let read = std::fs::File::open(upload.path())
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let head = &head[..read];
    match content_type {
        "image/png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => head.starts_with(&[0xff, 0xd8, 0xff]),
        "image/gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "image/webp" => head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP",
        _ => true,
    }
}

/// A parser's message for a person: the ORM names the field, the form
/// shows the message beside it.
fn invalid(error: &tack_orm::Error) -> String {
    match error {
        tack_orm::Error::InvalidValue { message, .. } => {
            format!("Enter a valid value ({message}).")
        }
        other => other.to_string(),
    }
}
